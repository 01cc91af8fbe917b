-- Rows received, accepted and quarantined per dataset of the agreement files (umowa/: budget,
-- spending plan, services catalogue, targets, milestones; quarter NULL): shown apart from the
-- quarter's totals, as they are not received in the reporting quarter. Reads report.data_quality.
WITH source AS (
    SELECT *
    FROM report.data_quality
    WHERE quarter IS NULL
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        dataset,
        received,
        accepted,
        quarantined,
        warnings
    FROM source
)

SELECT * FROM final ORDER BY unit, dataset
