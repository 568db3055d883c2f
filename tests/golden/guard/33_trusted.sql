-- user: boss roles=admin
SELECT salary FROM retail.employees
-- expect:
PASS (trusted)
