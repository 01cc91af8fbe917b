-- report.indicators: output and result indicators (schemas/indicators.yaml, kind produkt/rezultat)
-- per unit × reporting quarter: quarter value, cumulative value (sum of quarter values up to the
-- quarter), K/M, target and % of target. Person-based codes come from mart.person_count (one
-- count per person and unit, see the catalogue's counting rules).
CREATE OR REPLACE TABLE report.indicators AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
catalogue AS (
    SELECT code, name, kind, sort_order, measure_unit, by_sex, target FROM mart.indicator_catalogue
    WHERE kind IN ('produkt', 'rezultat')
),
units AS (
    SELECT unit, first_quarter, cus_start_quarter, commissioned_threshold FROM mart.dim_unit
),
persons AS (
    SELECT unit, code, count_quarter AS quarter, sex FROM mart.person_count
    WHERE code IN (SELECT code FROM catalogue)
),
cus_created AS (
    SELECT unit, 'PROD_CUS' AS code, greatest(cus_start_quarter, first_quarter) AS quarter, cast(NULL AS VARCHAR) AS sex
    FROM units
),
milestones_on_time AS (
    -- achieved before the project's first quarter: counted in the first quarter (quarters sum to the cumulative)
    SELECT m.unit, 'PROD_KAMIENIE' AS code, greatest(m.achieved_quarter, u.first_quarter) AS quarter,
           cast(NULL AS VARCHAR) AS sex
    FROM mart.milestone AS m JOIN units AS u USING (unit) WHERE m.on_time
),
events AS (
    SELECT unit, code, quarter,
           count(*) AS n, count(*) FILTER (WHERE sex = 'K') AS women, count(*) FILTER (WHERE sex = 'M') AS men
    FROM (SELECT * FROM persons UNION ALL SELECT * FROM cus_created UNION ALL SELECT * FROM milestones_on_time) AS e
    GROUP BY unit, code, quarter
),
counted_codes AS (
    SELECT code FROM catalogue WHERE code <> 'REZ_ZLECANIE'
),
counts AS (
    SELECT g.unit, g.quarter, c.code,
           coalesce(sum(e.n) FILTER (WHERE e.quarter = g.quarter), 0)     AS quarter_total,
           coalesce(sum(e.women) FILTER (WHERE e.quarter = g.quarter), 0) AS quarter_women,
           coalesce(sum(e.men) FILTER (WHERE e.quarter = g.quarter), 0)   AS quarter_men,
           coalesce(sum(e.n), 0)     AS cumulative_total,
           coalesce(sum(e.women), 0) AS cumulative_women,
           coalesce(sum(e.men), 0)   AS cumulative_men
    FROM grid AS g
    CROSS JOIN counted_codes AS c
    LEFT JOIN events AS e ON e.unit = g.unit AND e.code = c.code AND e.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, c.code
),
commissioned_share AS (
    -- REZ_ZLECANIE: shares (ratios), not counts; target = the unit's threshold
    SELECT unit, quarter, 'REZ_ZLECANIE' AS code,
           quarter_share AS quarter_total, share AS cumulative_total
    FROM report.commissioned
),
values_all AS (
    SELECT c.unit, c.quarter, c.code,
           cast(c.quarter_total AS DECIMAL(18, 4)) AS quarter_total,
           cast(c.quarter_women AS DECIMAL(18, 4)) AS quarter_women,
           cast(c.quarter_men AS DECIMAL(18, 4)) AS quarter_men,
           cast(c.cumulative_total AS DECIMAL(18, 4)) AS cumulative_total,
           cast(c.cumulative_women AS DECIMAL(18, 4)) AS cumulative_women,
           cast(c.cumulative_men AS DECIMAL(18, 4)) AS cumulative_men
    FROM counts AS c
    UNION ALL
    SELECT unit, quarter, code,
           cast(quarter_total AS DECIMAL(18, 4)) AS quarter_total, NULL AS quarter_women, NULL AS quarter_men,
           cast(cumulative_total AS DECIMAL(18, 4)) AS cumulative_total, NULL AS cumulative_women,
           NULL AS cumulative_men
    FROM commissioned_share
    WHERE 'REZ_ZLECANIE' IN (SELECT code FROM catalogue)
),
final AS (
    SELECT v.unit, v.quarter, v.code, k.name, k.kind, k.sort_order, k.measure_unit,
           cast(CASE WHEN k.target = 'threshold' THEN u.commissioned_threshold ELSE t.target_total END AS DECIMAL(18, 4)) AS target_total,
           cast(CASE WHEN k.by_sex THEN t.target_women END AS DECIMAL(18, 4)) AS target_women,
           cast(CASE WHEN k.by_sex THEN t.target_men END AS DECIMAL(18, 4))   AS target_men,
           v.quarter_total,
           CASE WHEN k.by_sex THEN v.quarter_women END    AS quarter_women,
           CASE WHEN k.by_sex THEN v.quarter_men END      AS quarter_men,
           v.cumulative_total,
           CASE WHEN k.by_sex THEN v.cumulative_women END AS cumulative_women,
           CASE WHEN k.by_sex THEN v.cumulative_men END   AS cumulative_men,
           mart.share(v.cumulative_total,
                      CASE WHEN k.target = 'threshold' THEN u.commissioned_threshold ELSE t.target_total END) AS pct,
           k.by_sex
    FROM values_all AS v
    JOIN catalogue AS k USING (code)
    JOIN units AS u USING (unit)
    LEFT JOIN mart.indicator_target AS t USING (unit, code)
)
SELECT * FROM final ORDER BY unit, quarter, sort_order;
