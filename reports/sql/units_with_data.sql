-- Units that delivered any quarterly file for the quarter (mart.unit_quarter.has_data): only they get a
-- quarterly report (docs/settlement.md, "Kwartał bez danych": no report for a quarter without data).
WITH grid AS (
    SELECT unit, quarter, has_data
    FROM mart.unit_quarter
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT unit
    FROM grid
    WHERE has_data
)

SELECT * FROM final ORDER BY unit
