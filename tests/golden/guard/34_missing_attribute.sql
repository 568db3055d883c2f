-- user: bob roles=analyst_west
SELECT * FROM retail.stores
-- expect:
ERROR 42501 retail.stores: the row filter needs the user attribute "region_id", which this user does not have
