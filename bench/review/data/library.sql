CREATE TABLE lib_authors(authorid int, authname text, birthcountry text);
CREATE TABLE lib_books(bookid int, title text, genre text, pubyear int, num_copies int, copies_on_loan int, isreference text, shelfprice numeric(8,2));
COMMENT ON COLUMN lib_books.copies_on_loan IS 'Number of copies currently on loan';
COMMENT ON COLUMN lib_books.num_copies IS 'Total copies the library owns';
COMMENT ON COLUMN lib_books.isreference IS 'Y if reference-only (cannot be borrowed)';
CREATE TABLE lib_bookauthors(bookid int, authorid int);
CREATE TABLE lib_members(memberid int, fullname text, memjoindate date, homecity text, isstudent text, email text);
COMMENT ON COLUMN lib_members.memjoindate IS 'Date the member joined the library';
CREATE TABLE lib_loans(loanid int, bookid int, memberid int, loandate date, duedate date, returndate date, fineamount numeric(6,2));
COMMENT ON COLUMN lib_loans.returndate IS 'Date the book was returned; null while still out';
COMMENT ON COLUMN lib_loans.fineamount IS 'Late fine charged in dollars';

INSERT INTO lib_authors VALUES
(1,'Toni Morrison','USA'),(2,'Haruki Murakami','Japan'),(3,'Chinua Achebe','Nigeria'),(4,'Margaret Atwood','Canada'),
(5,'Neil Gaiman','UK'),(6,'Terry Pratchett','UK'),(7,'Isabel Allende','Chile'),(8,'Kazuo Ishiguro','Japan'),
(9,'Ursula Le Guin','USA'),(10,'Yuval Harari','Israel'),(11,'Mary Beard','UK'),(12,'Carl Sagan','USA');
INSERT INTO lib_books VALUES
(1,'Beloved','Fiction',1987,4,2,'N',18.50),(2,'Kafka on the Shore','Fiction',2002,3,3,'N',16.00),
(3,'Things Fall Apart','Fiction',1958,5,1,'N',12.99),(4,'The Handmaid''s Tale','Science Fiction',1985,6,4,'N',15.75),
(5,'Good Omens','Fantasy',1990,3,2,'N',14.20),(6,'The House of the Spirits','Fiction',1982,2,0,'N',17.10),
(7,'Never Let Me Go','Science Fiction',2005,4,1,'N',13.40),(8,'The Left Hand of Darkness','Science Fiction',1969,2,2,'N',11.90),
(9,'Sapiens','History',2011,7,5,'N',24.00),(10,'SPQR','History',2015,3,1,'N',29.50),
(11,'Cosmos','Science',1980,4,0,'N',21.00),(12,'American Gods','Fantasy',2001,5,3,'N',19.99),
(13,'Oxford World Atlas','Reference',2019,1,0,'Y',85.00),(14,'Encyclopedia of Stars','Reference',2016,1,0,'Y',120.00),
(15,'Norwegian Wood','Fiction',1987,3,1,'N',15.00),(16,'The Remains of the Day','Fiction',1989,2,1,'N',14.00),
(17,'Oryx and Crake','Science Fiction',2003,3,0,'N',16.50),(18,'Mort','Fantasy',1987,2,1,'N',10.99),
(19,'A Wizard of Earthsea','Fantasy',1968,4,2,'N',12.00),(20,'Homo Deus','History',2016,3,2,'N',22.00);
INSERT INTO lib_bookauthors VALUES (1,1),(2,2),(3,3),(4,4),(5,5),(5,6),(6,7),(7,8),(8,9),(9,10),(10,11),(11,12),
(12,5),(15,2),(16,8),(17,4),(18,6),(19,9),(20,10);
INSERT INTO lib_members
SELECT g, (ARRAY['Ana','Ben','Chloe','Dev','Eli','Fay','Gus','Hana','Ivan','Jo'])[1+g%10] || ' ' || (ARRAY['Smith','Lopez','Kim','Patel','Brown','Nguyen','Okafor'])[1+g%7],
 DATE '2022-01-10' + (g*37 % 800), (ARRAY['Springfield','Riverton','Lakeside','Hillview'])[1+g%4],
 CASE WHEN g%3=0 THEN 'Yes' ELSE 'No' END, CASE WHEN g%5=0 THEN NULL ELSE 'm'||g||'@mail.test' END
FROM generate_series(1,30) g;
INSERT INTO lib_loans
SELECT g, 1 + (g*7 % 20), 1 + (g*11 % 30), DATE '2024-01-01' + (g*5 % 120), DATE '2024-01-01' + (g*5 % 120) + 21,
 CASE WHEN g%6=0 THEN NULL ELSE DATE '2024-01-01' + (g*5 % 120) + (g*3 % 30) END,
 CASE WHEN g%6<>0 AND (g*3%30) > 21 THEN ((g*3%30)-21)*0.5 ELSE NULL END
FROM generate_series(1,60) g WHERE 1 + (g*7 % 20) NOT IN (13,14);
