-- Services by the 14 areas of the Act (art. 2 ust. 1), per unit.
-- Reads report.services_by_area.
WITH source AS (
    SELECT *
    FROM report.services_by_area
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        area,
        deliveries,
        units,
        persons,
        quarter_value,
        cumulative_value
    FROM source
)

SELECT * FROM final ORDER BY unit, area
