-- Spending plan (harmonogram) against actual eligible expenditure, every plan quarter of the unit
-- (the report shows quarters up to the reporting one and draws the rest of the plan).
-- Reads report.plan_vs_actual: there `quarter` is the plan quarter, not the reporting quarter.
WITH source AS (
    SELECT *
    FROM report.plan_vs_actual
    WHERE list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        quarter,
        planned,
        CASE WHEN quarter <= $quarter THEN actual END AS actual
    FROM source
)

SELECT * FROM final ORDER BY unit, quarter
