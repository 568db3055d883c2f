-- user: alice roles=analyst_west region_id=3
SELECT set_config('Search_Path', 'evil', false)
-- expect:
ERROR 42501 set_config of search_path is not allowed for role(s) analyst_west
