-- Quarantined rows by reason (the rule's Polish message), per unit and dataset: the quarter's
-- files and the agreement files. Reads report.quarantine_reasons; no cell values, counts only.
WITH source AS (
    SELECT *
    FROM report.quarantine_reasons
    WHERE (quarter = $quarter OR quarter IS NULL)
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        dataset,
        reason,
        rows
    FROM source
)

SELECT * FROM final ORDER BY unit ASC, dataset ASC, "rows" DESC, reason ASC  -- noqa: RF06
