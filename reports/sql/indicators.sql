-- Physical progress: output and result indicators of the reporting quarter, per unit.
-- Reads report.indicators (one row per unit × quarter × indicator code).
WITH source AS (
    SELECT *
    FROM report.indicators
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        code,
        name,
        kind,
        sort_order,
        measure_unit,
        target_total,
        target_women,
        target_men,
        quarter_total,
        quarter_women,
        quarter_men,
        cumulative_total,
        cumulative_women,
        cumulative_men,
        pct
    FROM source
)

SELECT * FROM final ORDER BY unit, sort_order, code
