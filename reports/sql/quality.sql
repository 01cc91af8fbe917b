-- Rows received, accepted and quarantined per dataset: the quarter's files and the agreement
-- files (agreement datasets have quarter NULL). Reads report.data_quality.
WITH source AS (
    SELECT *
    FROM report.data_quality
    WHERE (quarter = $quarter OR quarter IS NULL)
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        quarter,
        dataset,
        received,
        accepted,
        quarantined,
        warnings
    FROM source
)

SELECT * FROM final ORDER BY unit, dataset
