-- Files whose content was loaded before for another unit (file check same_file_as_other_unit):
-- the file's index in `files_to_check` -> that unit (the first by name).
SELECT
    f.file,
    min(v.unit) AS other_unit
FROM files_to_check AS f
INNER JOIN raw.file_versions AS v
    ON v.file_sha256 = f.file_sha256 AND v.unit <> f.unit
WHERE v.dataset = $dataset
GROUP BY f.file
