-- report.plan_vs_actual: the spending plan (harmonogram) against eligible expenditure (direct +
-- indirect, report.settlement.eligible_quarter) per PLAN quarter. One row per unit × quarter of
-- the project period (and any plan quarter outside it); actual is NULL after the unit's last
-- reported quarter.
CREATE OR REPLACE TABLE report.plan_vs_actual AS
WITH plan AS (
    SELECT unit, quarter, sum(planned_amount) AS planned FROM mart.spending_plan GROUP BY unit, quarter
),
period AS (
    SELECT unit, quarter, last_data_quarter FROM mart.unit_quarter
),
settlement AS (
    SELECT unit, quarter, eligible_quarter FROM report.settlement
),
last_data AS (
    SELECT unit, max(last_data_quarter) AS last_data_quarter FROM mart.unit_quarter GROUP BY unit
),
quarters AS (
    SELECT unit, quarter FROM period
    UNION SELECT unit, quarter FROM plan
),
joined AS (
    SELECT q.unit, q.quarter,
           cast(coalesce(p.planned, 0) AS DECIMAL(18, 2)) AS planned,
           CASE WHEN q.quarter <= l.last_data_quarter
                THEN cast(coalesce(s.eligible_quarter, 0) AS DECIMAL(18, 2)) END AS actual
    FROM quarters AS q
    LEFT JOIN plan AS p USING (unit, quarter)
    LEFT JOIN settlement AS s USING (unit, quarter)
    LEFT JOIN last_data AS l USING (unit)
),
final AS (
    SELECT *,
           cast(sum(planned) OVER w AS DECIMAL(18, 2))                               AS planned_cumulative,
           CASE WHEN actual IS NOT NULL THEN cast(sum(actual) OVER w AS DECIMAL(18, 2)) END AS actual_cumulative,
           CASE WHEN actual IS NOT NULL THEN mart.share(sum(actual) OVER w, sum(planned) OVER w) END AS cumulative_share
    FROM joined
    WINDOW w AS (PARTITION BY unit ORDER BY quarter ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT * FROM final ORDER BY unit, quarter;
