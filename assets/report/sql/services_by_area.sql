-- report.services_by_area: deliveries by the 14 areas of the Act (area from the catalogue);
-- quarter = reporting quarter of swiadczenia.csv. persons = distinct participant_id in the quarter.
CREATE OR REPLACE TABLE report.services_by_area AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
deliveries AS (
    SELECT unit, quarter, area, participant_id, units, value FROM mart.fact_delivery WHERE area IS NOT NULL
),
areas AS (
    SELECT DISTINCT unit, area FROM mart.dim_service WHERE area IS NOT NULL
    UNION SELECT DISTINCT unit, area FROM deliveries
),
per_quarter AS (
    SELECT unit, quarter, area, count(*) AS deliveries, sum(units) AS units,
           count(DISTINCT participant_id) AS persons, sum(value) AS value
    FROM deliveries GROUP BY unit, quarter, area
),
final AS (
    SELECT g.unit, g.quarter, a.area,
           cast(coalesce(sum(p.deliveries) FILTER (WHERE p.quarter = g.quarter), 0) AS BIGINT)        AS deliveries,
           cast(coalesce(sum(p.units) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS units,
           cast(coalesce(sum(p.persons) FILTER (WHERE p.quarter = g.quarter), 0) AS BIGINT)           AS persons,
           cast(coalesce(sum(p.value) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS quarter_value,
           cast(coalesce(sum(p.value), 0) AS DECIMAL(18, 2))                                          AS cumulative_value,
           cast(coalesce(sum(p.deliveries), 0) AS BIGINT)                                             AS cumulative_deliveries
    FROM grid AS g JOIN areas AS a USING (unit)
    LEFT JOIN per_quarter AS p ON p.unit = g.unit AND p.area = a.area AND p.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, a.area
)
SELECT * FROM final ORDER BY unit, quarter, area;
