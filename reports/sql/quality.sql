-- Rows received, accepted and quarantined per dataset in the reporting quarter's files only. The
-- agreement files (umowa/, quarter NULL) are not received in a quarter: quality_agreement.sql.
-- Reads report.data_quality.
WITH source AS (
    SELECT *
    FROM report.data_quality
    WHERE quarter = $quarter
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
