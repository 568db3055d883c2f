-- user: alice roles=analyst_west region_id=3
SELECT * FROM retail.employees
-- expect:
SELECT * FROM (SELECT "employee_id", "store_id", "name", "title", "hire_date" FROM "retail"."employees") AS "employees" LIMIT 10000
