-- report.data_quality: rows received / accepted / quarantined per unit × quarter × dataset, from
-- staging.validation_summary. Agreement datasets (umowa/) keep quarter NULL (one row per unit).
CREATE OR REPLACE TABLE report.data_quality AS
WITH summary AS (
    SELECT * FROM src_validation_summary
),
final AS (
    SELECT unit, quarter, dataset,
           cast(sum(received) AS BIGINT)    AS received,
           cast(sum(accepted) AS BIGINT)    AS accepted,
           cast(sum(quarantined) AS BIGINT) AS quarantined,
           cast(sum(warnings) AS BIGINT)    AS warnings,
           string_agg(DISTINCT source_file, ', ') AS source_files,
           max(checked_at)                  AS checked_at
    FROM summary GROUP BY unit, quarter, dataset
)
SELECT * FROM final ORDER BY unit, quarter NULLS FIRST, dataset;
