-- Startup parameters, in the spellings clients use: the proxy applies them upstream when the
-- session binds, and reports them in its own startup ParameterStatus messages. The reported
-- value must be what PostgreSQL itself reports (its canonical spelling), and nothing may be
-- injected into the stream later. Same format as corpus.sql.

-- name: startup_param_spellings
-- params: TimeZone=utc
-- params: TimeZone=europe/london
-- params: TimeZone=etc/utc
-- params: DateStyle=German
-- params: DateStyle=euro
-- params: DateStyle=sql
-- params: DateStyle=iso,ymd
-- params: IntervalStyle=ISO_8601
-- params: IntervalStyle=POSTGRES
-- params: standard_conforming_strings=false
-- params: standard_conforming_strings=true
-- params: application_name=ünï
-- params: client_encoding=utf-8
-- params: client_encoding=LATIN1
-- expect: rows=1
SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds,
       current_setting('IntervalStyle') AS ist, current_setting('standard_conforming_strings') AS scs,
       current_setting('client_encoding') AS enc, '2001-02-03 04:05:06+00'::timestamptz AS ts

