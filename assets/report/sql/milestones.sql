-- report.milestones: milestones of the agreement with their on-time status (one row per milestone).
CREATE OR REPLACE TABLE report.milestones AS
WITH milestones AS (
    SELECT * FROM mart.milestone
),
final AS (
    SELECT unit, code, name, planned_date, achieved_date, on_time,
           CASE WHEN achieved_date IS NOT NULL THEN cast(achieved_date - planned_date AS INTEGER) END AS days_late,
           planned_quarter, achieved_quarter
    FROM milestones
)
SELECT * FROM final ORDER BY unit, planned_date, code;
