-- Services commissioned to external providers as a share of direct costs, against the threshold.
-- Reads report.commissioned.
WITH source AS (
    SELECT *
    FROM report.commissioned
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        commissioned_amount,
        direct_costs,
        share,
        threshold,
        met
    FROM source
)

SELECT * FROM final ORDER BY unit
