-- Objects shared by both runs of every scenario. They are created once, before the runs, so
-- table and type OIDs in RowDescription are the same on both sides. `@schema@` is replaced by
-- a schema name unique to the test process; the schema is dropped at the end.
CREATE SCHEMA @schema@;
CREATE TYPE @schema@.mood AS ENUM ('sad', 'ok', 'happy', 'très "bien"');
CREATE TYPE @schema@.pair AS (a int, b text);
CREATE DOMAIN @schema@.posint AS int CHECK (VALUE > 0);
CREATE DOMAIN @schema@.short_text AS varchar(8);
CREATE TABLE @schema@.items (
    id int PRIMARY KEY,
    name text NOT NULL,
    price numeric(10, 2),
    tags text[],
    born date,
    feeling @schema@.mood,
    qty @schema@.posint
);
INSERT INTO @schema@.items VALUES
    (1, 'apple', 1.50, '{red,"sweet fruit"}', '2020-01-31', 'happy', 3),
    (2, 'bänana', 0.25, '{}', '1999-12-31', 'ok', 12),
    (3, 'cherry ''pie''', NULL, '{NULL,"a\"b"}', NULL, NULL, NULL),
    (4, '', 1000000.99, '{x}', 'infinity', 'très "bien"', 1);
CREATE TABLE @schema@.uniq (
    id int CONSTRAINT uniq_pk PRIMARY KEY,
    email text CONSTRAINT uniq_email_key UNIQUE,
    n int CONSTRAINT uniq_n_positive CHECK (n > 0)
);
INSERT INTO @schema@.uniq VALUES (1, 'a@example.com', 1);
CREATE TABLE @schema@.scratch (id int, note text);
