-- report.settlement: financial settlement per unit × reporting quarter (quarters without files
-- carry the cumulative figures). A quarter's figures are the payment claim's (docs/settlement.md):
--   indirect_quarter    = indirect_costs(direct_quarter)           (flat rate, half up, to the grosz)
--   eu_quarter          = eu_part(eligible_quarter)                (down, to the grosz), national = remainder
--   *_cumulative        = sum of the quarters up to this one.
-- Limits (docs/settlement.md): cross-financing / fixed assets are over the limit only when the
-- cumulative amount exceeds what the agreement allows = the budget lines flagged as such, never more
-- than limit × project value (limit × value alone while no budget is loaded); the share of
-- spending-to-date is information (`*_share_above_limit`).
--   projected_total     = eligible_cumulative + (eligible spending of the last ≤ 4 quarters / their
--                         number) × quarters remaining to the end date; projection_risk when
--                         projected_total < param × budget total or > 100% of it, param of the rule
--                         PROGNOZA_RYZYKO in schemas/flags.yaml (`flag_rules`; 0.95 when absent).
CREATE OR REPLACE TABLE report.settlement AS
WITH grid AS (
    SELECT unit, quarter, quarter_index, quarter_count, quarters_remaining, has_data
    FROM mart.unit_quarter WHERE in_report
),
risk_band AS (
    -- lower edge of the projection band: the PROGNOZA_RYZYKO parameter of schemas/flags.yaml
    SELECT coalesce(max(cast(param AS DECIMAL(9, 4))), 0.95) AS lower_share
    FROM flag_rules WHERE code = 'PROGNOZA_RYZYKO'
),
units AS (
    SELECT unit, total, eu_rate, indirect_rate, cross_financing_limit, fixed_assets_limit FROM mart.dim_unit
),
expenses AS (
    SELECT unit, quarter,
           sum(eligible_amount)                                   AS direct,
           sum(eligible_amount) FILTER (WHERE cross_financing)    AS cross_financing,
           sum(eligible_amount) FILTER (WHERE fixed_asset)        AS fixed_assets,
           sum(eligible_amount) FILTER (WHERE commissioned)       AS commissioned,
           count(*)                                               AS documents
    FROM mart.fact_expense GROUP BY unit, quarter
),
budget AS (
    SELECT unit,
           cast(sum(amount) AS DECIMAL(18, 2))                              AS budget_lines_total,
           cast(sum(amount) FILTER (WHERE task_no >= 1) AS DECIMAL(18, 2)) AS budget_direct,
           cast(sum(amount) FILTER (WHERE task_no = 0) AS DECIMAL(18, 2))  AS budget_indirect,
           cast(coalesce(sum(amount) FILTER (WHERE cross_financing), 0) AS DECIMAL(18, 2)) AS budget_cross_financing,
           cast(coalesce(sum(amount) FILTER (WHERE fixed_asset), 0) AS DECIMAL(18, 2))     AS budget_fixed_assets
    FROM mart.budget_line GROUP BY unit
),
quarterly AS (
    SELECT g.*,
           cast(coalesce(e.direct, 0) AS DECIMAL(18, 2))           AS direct_quarter,
           cast(coalesce(e.cross_financing, 0) AS DECIMAL(18, 2))  AS cross_financing_quarter,
           cast(coalesce(e.fixed_assets, 0) AS DECIMAL(18, 2))     AS fixed_assets_quarter,
           cast(coalesce(e.commissioned, 0) AS DECIMAL(18, 2))     AS commissioned_quarter,
           coalesce(e.documents, 0)                                AS documents_quarter
    FROM grid AS g LEFT JOIN expenses AS e USING (unit, quarter)
),
quarter_money AS (
    -- the claim's quarter: flat rate on the quarter's direct costs, EU part of the quarter's eligible total
    SELECT q.*, u.total, u.eu_rate, u.indirect_rate, u.cross_financing_limit, u.fixed_assets_limit,
           mart.indirect_costs(q.direct_quarter, u.indirect_rate) AS indirect_quarter,
           cast(q.direct_quarter + mart.indirect_costs(q.direct_quarter, u.indirect_rate) AS DECIMAL(18, 2))
                                                                   AS eligible_quarter
    FROM quarterly AS q JOIN units AS u USING (unit)
),
quarter_values AS (
    SELECT m.*,
           mart.eu_part(eligible_quarter, eu_rate)       AS eu_quarter,
           mart.national_part(eligible_quarter, eu_rate) AS national_quarter
    FROM quarter_money AS m
),
cumulative AS (
    SELECT v.*,
           cast(sum(direct_quarter) OVER w AS DECIMAL(18, 2))          AS direct_cumulative,
           cast(sum(indirect_quarter) OVER w AS DECIMAL(18, 2))        AS indirect_cumulative,
           cast(sum(eligible_quarter) OVER w AS DECIMAL(18, 2))        AS eligible_cumulative,
           cast(sum(eu_quarter) OVER w AS DECIMAL(18, 2))              AS eu_cumulative,
           cast(sum(national_quarter) OVER w AS DECIMAL(18, 2))        AS national_cumulative,
           cast(sum(cross_financing_quarter) OVER w AS DECIMAL(18, 2)) AS cross_financing,
           cast(sum(fixed_assets_quarter) OVER w AS DECIMAL(18, 2))    AS fixed_assets,
           cast(sum(commissioned_quarter) OVER w AS DECIMAL(18, 2))    AS commissioned_cumulative
    FROM quarter_values AS v
    WINDOW w AS (PARTITION BY v.unit ORDER BY v.quarter ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
limits AS (
    -- what the agreement allows: the flagged budget lines, never more than limit × project value
    SELECT c.*,
           cast(CASE WHEN b.unit IS NULL THEN c.cross_financing_limit * c.total
                     ELSE least(b.budget_cross_financing, c.cross_financing_limit * c.total) END AS DECIMAL(18, 2))
                                                                   AS cross_financing_allowed,
           cast(CASE WHEN b.unit IS NULL THEN c.fixed_assets_limit * c.total
                     ELSE least(b.budget_fixed_assets, c.fixed_assets_limit * c.total) END AS DECIMAL(18, 2))
                                                                   AS fixed_assets_allowed
    FROM cumulative AS c LEFT JOIN budget AS b USING (unit)
),
burn AS (
    SELECT v.*,
           cast(sum(eligible_quarter) OVER last4 AS DECIMAL(18, 2)) AS burn_sum_last4,
           cast(count(*) OVER last4 AS INTEGER)                     AS burn_quarters
    FROM limits AS v
    WINDOW last4 AS (PARTITION BY unit ORDER BY quarter ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
),
projection AS (
    -- burn-rate projection to the end date: cumulative + mean of the last ≤ 4 quarters × quarters left
    SELECT b.*,
           cast(eligible_cumulative + mart.divide_money(burn_sum_last4 * quarters_remaining, burn_quarters)
                AS DECIMAL(18, 2)) AS projected_total
    FROM burn AS b
),
final AS (
    SELECT
        b.unit, b.quarter, b.quarter_index, b.quarter_count, b.quarters_remaining, b.has_data,
        b.documents_quarter,
        b.direct_quarter, b.direct_cumulative,
        b.indirect_rate, b.indirect_quarter, b.indirect_cumulative,
        b.eligible_quarter, b.eligible_cumulative,
        b.eu_rate, b.eu_quarter, b.eu_cumulative,
        b.national_quarter, b.national_cumulative,
        b.total                                                          AS budget_total,
        bl.budget_lines_total, bl.budget_direct, bl.budget_indirect,
        mart.share(b.eligible_cumulative, b.total)                       AS budget_used_share,
        b.cross_financing,
        mart.share(b.cross_financing, b.eligible_cumulative)             AS cross_financing_share,
        b.cross_financing_limit,
        b.cross_financing_allowed,
        b.cross_financing > b.cross_financing_allowed                    AS cross_financing_over_limit,
        b.cross_financing > b.cross_financing_limit * b.eligible_cumulative AS cross_financing_share_above_limit,
        b.fixed_assets,
        mart.share(b.fixed_assets, b.eligible_cumulative)                AS fixed_assets_share,
        b.fixed_assets_limit,
        b.fixed_assets_allowed,
        b.fixed_assets > b.fixed_assets_allowed                          AS fixed_assets_over_limit,
        b.fixed_assets > b.fixed_assets_limit * b.eligible_cumulative    AS fixed_assets_share_above_limit,
        b.commissioned_quarter, b.commissioned_cumulative,
        mart.divide_money(b.burn_sum_last4, b.burn_quarters)             AS burn_rate,
        b.burn_quarters,
        b.projected_total,
        mart.share(b.projected_total, b.total)                           AS projected_share,
        (b.projected_total < rb.lower_share * b.total OR b.projected_total > b.total) AS projection_risk
    FROM projection AS b
    CROSS JOIN risk_band AS rb
    LEFT JOIN budget AS bl USING (unit)
)
SELECT * FROM final ORDER BY unit, quarter;
