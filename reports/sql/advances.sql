-- Advances (tranches) received and spent, and the 70% rule for the next tranche.
-- Reads report.advances.
WITH source AS (
    SELECT *
    FROM report.advances
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        tranches,
        received_total,
        received_eu,
        received_state,
        spent,
        spent_share,
        threshold,
        next_tranche_allowed
    FROM source
)

SELECT * FROM final ORDER BY unit
