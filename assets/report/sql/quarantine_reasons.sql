-- report.quarantine_reasons: quarantined (or warned) rows by reason (Polish message, else rule).
CREATE OR REPLACE TABLE report.quarantine_reasons AS
WITH quarantine AS (
    SELECT * FROM src_quarantine
),
final AS (
    SELECT unit, quarter, dataset, coalesce(message, rule) AS reason, severity,
           any_value(header) AS header,
           cast(count(DISTINCT (source_file, row_number)) AS BIGINT) AS rows  -- noqa: ST08, CP03
    FROM quarantine GROUP BY unit, quarter, dataset, coalesce(message, rule), severity
)
SELECT * FROM final ORDER BY unit ASC, quarter ASC NULLS FIRST, dataset ASC, "rows" DESC;  -- noqa: RF06
