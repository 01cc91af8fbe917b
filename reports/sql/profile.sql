-- Participants' profile (ESF common breakdowns by sex), per unit. Aggregated counts only.
-- Reads report.participant_profile; `sensitive` marks the categories suppressed below the threshold.
WITH source AS (
    SELECT *
    FROM report.participant_profile
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        code,
        label,
        sort_order,
        coalesce(sensitive, FALSE) AS sensitive,
        age_group,
        quarter_total,
        quarter_women,
        quarter_men,
        cumulative_total,
        cumulative_women,
        cumulative_men
    FROM source
)

SELECT * FROM final ORDER BY unit, sort_order, code
