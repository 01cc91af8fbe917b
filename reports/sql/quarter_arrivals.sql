-- Files of one reporting quarter that have arrived, per unit (current versions only).
-- Used by the report schedule: the quarter's reports are produced once every unit's files are in.
-- A unit counts as arrived when it has current files of the quarter; the fingerprint and the
-- last load time also cover its agreement files (umowa/, quarter NULL), so a corrected budget or
-- target file produces the reports again.
WITH current_files AS (
    SELECT unit, quarter, dataset, file_sha256, version_no, last_loaded_at
    FROM raw.file_versions
    WHERE (quarter = $quarter OR quarter IS NULL)
      AND is_current
),

arrived_units AS (
    SELECT DISTINCT unit
    FROM current_files
    WHERE quarter IS NOT NULL
),

final AS (
    SELECT
        f.unit,
        count(*) FILTER (WHERE f.quarter IS NOT NULL)                          AS files,
        max(f.last_loaded_at)                                                  AS last_loaded_at,
        string_agg(coalesce(f.quarter, 'umowa') || '/' || f.dataset || ':' || f.version_no || ':' || f.file_sha256,
                   ',' ORDER BY f.quarter NULLS FIRST, f.dataset)             AS fingerprint
    FROM current_files AS f
    JOIN arrived_units AS a USING (unit)
    GROUP BY f.unit
)

SELECT * FROM final ORDER BY unit
