CREATE TABLE hr_department(deptcode text PRIMARY KEY, deptname text, location text, annualbudget numeric(12,2));
CREATE TABLE hr_employee(empid int PRIMARY KEY, empname text, hiredate date, salary numeric(10,2), deptcode text REFERENCES hr_department, managerid int, remoteflag text, vacationdaysleft int, num_dependents int, termination_date date);
COMMENT ON COLUMN hr_employee.remoteflag IS 'Yes if the employee works fully remote';
COMMENT ON COLUMN hr_employee.managerid IS 'empid of the direct manager; null for the CEO';
CREATE TABLE hr_project(projid int, projname text, startdt date, enddt date, budget_usd numeric(12,2), is_billable boolean);
CREATE TABLE hr_assignment(empid int, projid int, hoursallocated int, projrole text);
CREATE TABLE hr_training(trainingid int, empid int, coursename text, completedon date, score int);
COMMENT ON COLUMN hr_training.completedon IS 'Completion date; null if not completed yet';
CREATE TABLE hr_leave_request(requestid int, empid int, leavetype text, startdate date, num_days int, approved char(1));
INSERT INTO hr_department VALUES ('ENG','Engineering','Berlin',2500000),('SAL','Sales','London',1200000),('FIN','Finance','London',600000),('HRM','Human Resources','Berlin',300000),('OPS','Operations','Madrid',900000),('LEG','Legal','Paris',400000);
INSERT INTO hr_employee SELECT g,
 (ARRAY['Anna','Ravi','Sofia','Tom','Yuki','Pablo','Greta','Kwame','Lea','Ivan','Mona','Jon'])[1+g%12]||' '||(ARRAY['Meyer','Singh','Rossi','Clark','Sato','Vega','Holm','Mensah','Dubois'])[1+g%9],
 DATE '2015-03-01' + (g*211 % 3300), 40000 + (g*7919 % 80)*1000,
 (ARRAY['ENG','ENG','ENG','SAL','SAL','FIN','HRM','OPS','OPS'])[1+g%9],
 CASE WHEN g=1 THEN NULL ELSE 1 + (g % 5) END,
 CASE WHEN g%3=0 THEN 'Yes' ELSE 'No' END, g*7%25, g%4,
 CASE WHEN g%11=0 THEN DATE '2024-01-31' + (g%60) ELSE NULL END
FROM generate_series(1,45) g;
INSERT INTO hr_project VALUES (1,'Apollo','2023-01-15',NULL,500000,true),(2,'Borealis','2023-06-01','2024-02-28',250000,true),
(3,'Cygnus','2024-01-10',NULL,120000,false),(4,'Delta Migration','2022-09-01','2023-12-31',800000,false),(5,'Eclipse','2024-03-01',NULL,60000,true),(6,'Fjord','2024-04-01',NULL,90000,false);
INSERT INTO hr_assignment SELECT e, 1+(e*g % 5), 20 + (e*g%5)*10, CASE WHEN g=1 THEN 'Lead' ELSE 'Contributor' END
FROM generate_series(1,40) e, generate_series(1,2) g WHERE (e+g)%3<>0;
INSERT INTO hr_training SELECT g, 1+(g*13%42), (ARRAY['Security Basics','GDPR','Leadership 101','Advanced SQL','First Aid'])[1+g%5],
 CASE WHEN g%4=0 THEN NULL ELSE DATE '2024-01-05' + (g*9 % 150) END, CASE WHEN g%4=0 THEN NULL ELSE 55 + (g*17 % 45) END
FROM generate_series(1,50) g;
INSERT INTO hr_leave_request SELECT g, 1+(g*7%45), (ARRAY['Vacation','Sick','Parental','Unpaid'])[1+g%4], DATE '2024-01-01' + (g*11%180), 1+(g%10), CASE WHEN g%5=0 THEN 'N' ELSE 'Y' END
FROM generate_series(1,40) g;
