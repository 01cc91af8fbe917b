-- Services by mode of delivery (own / pes / ngo / social_clause), per unit.
-- Reads report.services_by_mode.
WITH source AS (
    SELECT *
    FROM report.services_by_mode
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        mode,
        deliveries,
        quarter_value,
        cumulative_value
    FROM source
)

SELECT * FROM final ORDER BY unit, mode
