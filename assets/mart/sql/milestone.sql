-- mart.milestone: milestones of the agreement (umowa/kamienie_milowe.csv).
CREATE OR REPLACE TABLE mart.milestone AS
WITH milestones AS (
    SELECT * FROM staging.milestones
),
final AS (
    SELECT unit, milestone_code AS code, milestone_name AS name, planned_date, achieved_date,
           CASE WHEN achieved_date IS NULL THEN NULL ELSE achieved_date <= planned_date END AS on_time,
           mart.quarter_label(planned_date)  AS planned_quarter,
           mart.quarter_label(achieved_date) AS achieved_quarter,
           source_file, file_sha256, row_number
    FROM milestones
)
SELECT * FROM final ORDER BY unit, planned_date, code;
