-- user: alice roles=analyst_west region_id=3
SELECT public.leak()
-- expect:
ERROR 42501 function public.leak is not allowed for role(s) analyst_west: only built-in functions may be called
