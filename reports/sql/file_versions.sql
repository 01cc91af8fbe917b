-- Source files behind the report: the current version of each file of the reporting quarter
-- and of the agreement files (umowa/, quarter NULL). Reads raw.file_versions (file metadata only).
WITH source AS (
    SELECT *
    FROM raw.file_versions
    WHERE is_current
      AND (quarter = $quarter OR quarter IS NULL)
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        quarter,
        dataset,
        source_file,
        version_no,
        file_sha256    AS sha256,
        last_loaded_at AS loaded_at,
        rows_loaded
    FROM source
)

SELECT * FROM final ORDER BY unit, quarter NULLS FIRST, source_file
