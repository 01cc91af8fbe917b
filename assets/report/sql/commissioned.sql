-- report.commissioned: services commissioned to external providers (expenses flagged
-- Usługa zlecona = T) as a share of eligible DIRECT costs, cumulative, against the unit's threshold.
-- met compares exact decimals (commissioned_amount >= threshold × direct_costs); share is for display.
CREATE OR REPLACE TABLE report.commissioned AS
WITH settlement AS (
    SELECT unit, quarter, direct_quarter, direct_cumulative, commissioned_quarter, commissioned_cumulative
    FROM report.settlement
),
units AS (
    SELECT unit, commissioned_threshold FROM mart.dim_unit
),
final AS (
    SELECT s.unit, s.quarter,
           s.commissioned_cumulative                                   AS commissioned_amount,
           s.direct_cumulative                                         AS direct_costs,
           mart.share(s.commissioned_cumulative, s.direct_cumulative)  AS share,
           u.commissioned_threshold                                    AS threshold,
           CASE WHEN s.direct_cumulative = 0 THEN NULL
                ELSE s.commissioned_cumulative >= u.commissioned_threshold * s.direct_cumulative END AS met,
           s.commissioned_quarter,
           s.direct_quarter,
           mart.share(s.commissioned_quarter, s.direct_quarter)        AS quarter_share
    FROM settlement AS s JOIN units AS u USING (unit)
)
SELECT * FROM final ORDER BY unit, quarter;
