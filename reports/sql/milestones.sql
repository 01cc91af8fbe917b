-- Milestones of the agreement (the builder judges them as of the quarter's end).
-- Reads report.milestones (agreement level: no quarter column).
WITH source AS (
    SELECT *
    FROM report.milestones
    WHERE list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        code,
        name,
        planned_date,
        achieved_date
    FROM source
)

SELECT * FROM final ORDER BY unit, planned_date, code
