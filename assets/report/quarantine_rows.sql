-- The rejected and warned rows of one unit × quarter for the coordinator (`cus status --unit U --quarter Q`):
-- file, row, column, value (NULL for personal-data columns: never stored) and the Polish message; the
-- quarter's agreement files (quarter NULL) are not included. Errors first, then warnings, in file order.
SELECT
    q.severity,
    q.source_file,
    q.row_number,
    q.header,
    q.value,
    q.message
FROM staging.quarantine AS q
WHERE q.unit = $unit AND q.quarter = $quarter
ORDER BY CASE q.severity WHEN 'error' THEN 0 ELSE 1 END, q.source_file, q.row_number NULLS FIRST, q.header
LIMIT $max_rows
