-- The example job as SQL: runs in Lambda with SPINDRIFT_JOB=classpath:jobs/clickstream.sql
-- spindrift.sink.table: analytics.page_views_sql
-- spindrift.output.mode: append
SELECT e.event_id, e.user_id, lower(e.action) AS action, e.page, e.ts,
       spindrift_lane, spindrift_position, data AS spindrift_payload,
       CASE WHEN e.event_id IS NULL OR e.ts IS NULL THEN 'malformed or incomplete event' END AS spindrift_reject
FROM (
  SELECT from_json(CAST(data AS STRING),
                   'event_id STRING, user_id STRING, action STRING, page STRING, ts TIMESTAMP') AS e,
         data, spindrift_lane, spindrift_position
  FROM events
)
