-- Sensitive categories of the participants' profile in every quarter up to the reporting one, per
-- unit: the series the sequential disclosure control walks (reports/suppression.py) so a hidden
-- cumulative cannot be recovered as the difference of two published quarters. Aggregated counts
-- only. Reads report.participant_profile.
WITH source AS (
    SELECT *
    FROM report.participant_profile
    WHERE quarter <= $quarter
      AND list_contains($units, unit)
      AND coalesce(sensitive, FALSE)
),

final AS (
    SELECT
        unit,
        quarter,
        code,
        quarter_total,
        quarter_women,
        quarter_men,
        cumulative_total,
        cumulative_women,
        cumulative_men
    FROM source
)

SELECT * FROM final ORDER BY unit, code, quarter
