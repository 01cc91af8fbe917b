-- The rejected and warned rows of one unit × quarter for the coordinator (`cus status --unit U --quarter Q`):
-- file, row, column, value (NULL for personal-data columns: never stored) and the Polish message, with the
-- unit's agreement files (umowa/, quarter NULL: they feed every quarter). Errors first, then warnings,
-- in file order; `total` = all such rows (the output stops at $max_rows).
SELECT
    q.severity,
    q.source_file,
    q.row_number,
    q.header,
    q.value,
    q.message,
    count(*) OVER () AS total
FROM staging.quarantine AS q
WHERE q.unit = $unit AND (q.quarter = $quarter OR q.quarter IS NULL)
ORDER BY CASE q.severity WHEN 'error' THEN 0 ELSE 1 END, q.source_file, q.row_number NULLS FIRST, q.header
LIMIT $max_rows
