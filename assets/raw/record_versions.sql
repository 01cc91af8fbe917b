-- The file versions of a batch of loaded files in one statement set (assets/raw/ingest.py
-- `record_versions`). `incoming_files` (registered by the caller): one row per loaded file with
-- unit, quarter, dataset, source_file, file_sha256, size_bytes, encoding, rows_loaded,
-- ignored_columns, loaded_at. A content loaded before for the same partition and dataset gets its
-- old version number back; a new content gets the next number. Then exactly one version per
-- partition and dataset is current. The last statement returns each file's version.
CREATE OR REPLACE TEMP TABLE batch_file_versions AS
WITH known AS (
    SELECT
        i.unit, i.quarter, i.dataset, i.file_sha256,
        max(v.version_no) FILTER (WHERE v.file_sha256 = i.file_sha256) AS same_content_version,
        coalesce(max(v.version_no), 0) AS last_version
    FROM incoming_files AS i
    LEFT JOIN raw.file_versions AS v
        ON v.unit = i.unit AND v.quarter IS NOT DISTINCT FROM i.quarter AND v.dataset = i.dataset
    GROUP BY i.unit, i.quarter, i.dataset, i.file_sha256
)
SELECT
    i.*,
    coalesce(k.same_content_version, k.last_version + 1) AS version_no,
    k.same_content_version IS NULL AS new_version
FROM incoming_files AS i
INNER JOIN known AS k
    ON
        i.unit = k.unit AND i.quarter IS NOT DISTINCT FROM k.quarter AND i.dataset = k.dataset
        AND i.file_sha256 = k.file_sha256;

UPDATE raw.file_versions AS v SET is_current = FALSE
FROM batch_file_versions AS b
WHERE v.unit = b.unit AND v.quarter IS NOT DISTINCT FROM b.quarter AND v.dataset = b.dataset;

UPDATE raw.file_versions AS v
SET is_current = TRUE, last_loaded_at = b.loaded_at, source_file = b.source_file, rows_loaded = b.rows_loaded
FROM batch_file_versions AS b
WHERE
    v.unit = b.unit AND v.quarter IS NOT DISTINCT FROM b.quarter AND v.dataset = b.dataset
    AND v.file_sha256 = b.file_sha256 AND NOT b.new_version;

INSERT INTO raw.file_versions
SELECT
    unit, quarter, dataset, source_file, file_sha256, version_no, size_bytes, encoding, rows_loaded,
    ignored_columns, loaded_at AS first_loaded_at, loaded_at AS last_loaded_at, TRUE AS is_current
FROM batch_file_versions
WHERE new_version;

SELECT unit, quarter, dataset, version_no, new_version FROM batch_file_versions;
