-- report.participant_profile: ESF common breakdowns of participants (catalogue kind = profil)
-- per unit × reporting quarter; persons counted once per unit in their entry quarter.
CREATE OR REPLACE TABLE report.participant_profile AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
catalogue AS (
    SELECT code, name AS label, sort_order, sensitive, age_group FROM mart.indicator_catalogue WHERE kind = 'profil'
),
events AS (
    SELECT unit, code, count_quarter AS quarter, count(*) AS n,
           count(*) FILTER (WHERE sex = 'K') AS women, count(*) FILTER (WHERE sex = 'M') AS men
    FROM mart.person_count WHERE code IN (SELECT code FROM catalogue)
    GROUP BY ALL
),
counts AS (
    SELECT g.unit, g.quarter, c.code,
           cast(coalesce(sum(e.n) FILTER (WHERE e.quarter = g.quarter), 0) AS BIGINT)     AS quarter_total,
           cast(coalesce(sum(e.women) FILTER (WHERE e.quarter = g.quarter), 0) AS BIGINT) AS quarter_women,
           cast(coalesce(sum(e.men) FILTER (WHERE e.quarter = g.quarter), 0) AS BIGINT)   AS quarter_men,
           cast(coalesce(sum(e.n), 0) AS BIGINT)     AS cumulative_total,
           cast(coalesce(sum(e.women), 0) AS BIGINT) AS cumulative_women,
           cast(coalesce(sum(e.men), 0) AS BIGINT)   AS cumulative_men
    FROM grid AS g CROSS JOIN catalogue AS c
    LEFT JOIN events AS e ON e.unit = g.unit AND e.code = c.code AND e.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, c.code
),
final AS (
    SELECT n.unit, n.quarter, n.code, c.label, c.sort_order, c.sensitive, c.age_group,
           n.quarter_total, n.cumulative_total, n.cumulative_women, n.cumulative_men,
           n.quarter_women, n.quarter_men
    FROM counts AS n JOIN catalogue AS c USING (code)
)
SELECT * FROM final ORDER BY unit, quarter, sort_order;
