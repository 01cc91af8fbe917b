-- Risks and warning signals of the monitoring rules for the reporting quarter.
-- Reads report.flags.
WITH source AS (
    SELECT *
    FROM report.flags
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        severity,
        area,
        message
    FROM source
)

SELECT * FROM final ORDER BY unit, severity, area, message
