-- Settlement of the reporting quarter: direct, indirect (flat rate), eligible, EU / national split,
-- budget use, cross-financing and fixed assets against limits (`*_over_limit`: the warehouse's exact
-- comparison of amounts, never the rounded display share), projection at the end date and its risk
-- (`projection_risk`, band from schemas/flags.yaml).
-- Reads report.settlement.
WITH source AS (
    SELECT *
    FROM report.settlement
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

final AS (
    SELECT
        unit,
        direct_quarter,
        direct_cumulative,
        indirect_rate,
        indirect_quarter,
        indirect_cumulative,
        eligible_quarter,
        eligible_cumulative,
        eu_quarter,
        eu_cumulative,
        national_quarter,
        national_cumulative,
        budget_total,
        budget_used_share,
        cross_financing,
        cross_financing_share,
        cross_financing_limit,
        cross_financing_over_limit,
        fixed_assets,
        fixed_assets_share,
        fixed_assets_limit,
        fixed_assets_over_limit,
        projected_total,
        projection_risk
    FROM source
)

SELECT * FROM final ORDER BY unit
