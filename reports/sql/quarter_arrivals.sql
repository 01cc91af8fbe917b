-- Files of one reporting quarter that have arrived, per unit (current versions only).
-- Used by the report schedule: the quarter's reports are produced once every unit's files are in.
WITH current_files AS (
    SELECT unit, dataset, file_sha256, version_no, last_loaded_at
    FROM raw.file_versions
    WHERE quarter = $quarter
      AND is_current
),

final AS (
    SELECT
        unit,
        count(*)                                                              AS files,
        max(last_loaded_at)                                                   AS last_loaded_at,
        string_agg(dataset || ':' || version_no || ':' || file_sha256, ',' ORDER BY dataset) AS fingerprint
    FROM current_files
    GROUP BY unit
)

SELECT * FROM final ORDER BY unit
