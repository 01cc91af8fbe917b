-- Files whose content is the current version of another quarter of the same unit (file check
-- same_file_as_other_quarter): the file's index in `files_to_check` -> that quarter. A version replaced
-- since (the file was moved to its own quarter) is no reason to refuse it.
SELECT
    f.file,
    min(v.quarter) AS other_quarter
FROM files_to_check AS f
INNER JOIN raw.file_versions AS v
    ON v.file_sha256 = f.file_sha256 AND v.unit = f.unit AND v.quarter <> f.quarter AND v.is_current
WHERE v.dataset = $dataset
GROUP BY f.file
