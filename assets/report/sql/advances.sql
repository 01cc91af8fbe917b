-- report.advances: advance tranches received (cumulative, by reporting quarter of transze.csv)
-- vs eligible expenditure settled (report.settlement.eligible_cumulative): the 70% rule.
-- next_tranche_allowed = spent >= threshold × received_total (exact decimals); with no tranche
-- received yet, the first tranche needs no settlement (true).
CREATE OR REPLACE TABLE report.advances AS
WITH settlement AS (
    SELECT unit, quarter, eligible_cumulative FROM report.settlement
),
units AS (
    SELECT unit, advance_spent_threshold FROM mart.dim_unit
),
tranches AS (
    SELECT unit, quarter, count(*) AS tranches, sum(amount_total) AS total, sum(amount_eu) AS eu,
           sum(amount_state) AS state
    FROM mart.fact_tranche GROUP BY unit, quarter
),
cumulative AS (
    SELECT s.unit, s.quarter, s.eligible_cumulative,
           cast(coalesce(sum(t.tranches), 0) AS INTEGER)   AS tranches,
           cast(coalesce(sum(t.total), 0) AS DECIMAL(18, 2)) AS received_total,
           cast(coalesce(sum(t.eu), 0) AS DECIMAL(18, 2))    AS received_eu,
           cast(coalesce(sum(t.state), 0) AS DECIMAL(18, 2)) AS received_state,
           cast(coalesce(sum(t.total) FILTER (WHERE t.quarter = s.quarter), 0) AS DECIMAL(18, 2)) AS received_quarter
    FROM settlement AS s LEFT JOIN tranches AS t ON t.unit = s.unit AND t.quarter <= s.quarter
    GROUP BY s.unit, s.quarter, s.eligible_cumulative
),
final AS (
    SELECT c.unit, c.quarter, c.tranches, c.received_quarter, c.received_total, c.received_eu, c.received_state,
           c.eligible_cumulative                                  AS spent,
           mart.share(c.eligible_cumulative, c.received_total)    AS spent_share,
           u.advance_spent_threshold                              AS threshold,
           CASE WHEN c.received_total = 0 THEN TRUE
                ELSE c.eligible_cumulative >= u.advance_spent_threshold * c.received_total END AS next_tranche_allowed,
           cast(greatest(u.advance_spent_threshold * c.received_total - c.eligible_cumulative, 0) AS DECIMAL(18, 2))
                                                                  AS missing_to_threshold
    FROM cumulative AS c JOIN units AS u USING (unit)
)
SELECT * FROM final ORDER BY unit, quarter;
