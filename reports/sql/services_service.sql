-- Services by service of the unit's catalogue (area of the Act, mode of delivery), per unit.
-- Reads report.services_by_service.
WITH source AS (
    SELECT *
    FROM report.services_by_service
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        service_code,
        service_name,
        area,
        mode,
        deliveries,
        units,
        quarter_value,
        cumulative_value
    FROM source
)

SELECT * FROM final ORDER BY unit, area, service_code
