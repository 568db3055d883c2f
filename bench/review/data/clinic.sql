CREATE TABLE departments(department_id int PRIMARY KEY, dept_name text NOT NULL, floor_number int);
CREATE TABLE doctors(doctor_id int PRIMARY KEY, first_name text, last_name text, department_id int REFERENCES departments, specialty text, years_experience int, is_accepting_patients boolean);
CREATE TABLE patients(patient_id int PRIMARY KEY, full_name text, date_of_birth date, gender text, insurance_provider text, num_visits int, registered_on date);
COMMENT ON COLUMN patients.num_visits IS 'Number of visits the patient has made in total';
COMMENT ON COLUMN patients.insurance_provider IS 'Health insurer; null when self-pay';
CREATE TABLE appointments(appointment_id int PRIMARY KEY, patient_id int REFERENCES patients, doctor_id int REFERENCES doctors, appt_date date, status text, fee numeric(8,2), follow_up_needed char(1));
COMMENT ON COLUMN appointments.follow_up_needed IS 'Y when the doctor asked for a follow-up visit';
CREATE TABLE medications(medication_id int PRIMARY KEY, med_name text, unit_cost numeric(8,2), requires_prescription text);
CREATE TABLE prescriptions(prescription_id int PRIMARY KEY, appointment_id int REFERENCES appointments, medication_id int REFERENCES medications, quantity int);
INSERT INTO departments VALUES (1,'Cardiology',3),(2,'Pediatrics',1),(3,'Orthopedics',2),(4,'Dermatology',2),(5,'Neurology',4);
INSERT INTO doctors VALUES
(1,'Alice','Wong',1,'Interventional Cardiology',15,true),(2,'Brian','Osei',1,'Electrophysiology',8,false),
(3,'Carmen','Diaz',2,'General Pediatrics',12,true),(4,'David','Levi',2,'Neonatology',4,true),
(5,'Emma','Novak',3,'Sports Medicine',20,false),(6,'Farid','Haddad',3,'Spine Surgery',10,true),
(7,'Grace','Liu',4,'Cosmetic Dermatology',6,true),(8,'Hugo','Berg',5,'Stroke Care',18,false),(9,'Ines','Costa',5,'Epilepsy',3,true);
INSERT INTO patients SELECT g,
 (ARRAY['Liam','Olivia','Noah','Emma','Ava','Lucas','Mia','Ethan','Zoe','Omar'])[1+g%10]||' '||(ARRAY['Reed','Shah','Cole','Ford','Mills','Hart','Ruiz'])[1+g%7],
 DATE '1950-01-01' + (g*997 % 25000), CASE WHEN g%2=0 THEN 'F' ELSE 'M' END,
 CASE g%4 WHEN 0 THEN NULL WHEN 1 THEN 'Aetna' WHEN 2 THEN 'Cigna' ELSE 'BlueCross' END,
 0, DATE '2023-01-01' + (g*13 % 450)
FROM generate_series(1,40) g;
INSERT INTO appointments SELECT g, 1+(g*7%36), 1+(g*5%9), DATE '2024-01-02' + (g*3%90),
 (ARRAY['Completed','Completed','Completed','Cancelled','No-show','Scheduled'])[1+g%6],
 CASE WHEN g%6 IN (3,4) THEN 0 ELSE 80 + (g*17%5)*30 END,
 CASE WHEN g%4=0 THEN 'Y' ELSE 'N' END
FROM generate_series(1,70) g;
UPDATE patients p SET num_visits = (SELECT count(*) FROM appointments a WHERE a.patient_id=p.patient_id AND a.status='Completed');
INSERT INTO medications VALUES (1,'Atorvastatin',0.45,'Yes'),(2,'Ibuprofen',0.10,'No'),(3,'Amoxicillin',0.60,'Yes'),(4,'Cetirizine',0.20,'No'),(5,'Levetiracetam',1.25,'Yes'),(6,'Hydrocortisone cream',3.50,'No');
INSERT INTO prescriptions SELECT g, a, 1+(g*5%6), 10+(g*7%4)*10
FROM (SELECT row_number() over () g, appointment_id a FROM appointments WHERE status='Completed' AND appointment_id%3<>0
      UNION ALL SELECT 100+appointment_id, appointment_id FROM appointments WHERE status='Completed' AND appointment_id%5=0) s;
