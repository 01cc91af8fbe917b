-- report.services_by_service: deliveries by service of the catalogue (and codes outside it).
CREATE OR REPLACE TABLE report.services_by_service AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
catalogue AS (
    SELECT unit, service_code, service_name, area, mode FROM mart.dim_service
),
deliveries AS (
    SELECT unit, quarter, service_code, units, value FROM mart.fact_delivery
),
services AS (
    SELECT unit, service_code FROM catalogue UNION SELECT DISTINCT unit, service_code FROM deliveries
),
per_quarter AS (
    SELECT unit, quarter, service_code, count(*) AS deliveries, sum(units) AS units, sum(value) AS value
    FROM deliveries GROUP BY ALL
),
amounts AS (
    SELECT g.unit, g.quarter, s.service_code,
           cast(coalesce(sum(p.deliveries) FILTER (WHERE p.quarter = g.quarter), 0) AS BIGINT)        AS deliveries,
           cast(coalesce(sum(p.units) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS units,
           cast(coalesce(sum(p.value) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS quarter_value,
           cast(coalesce(sum(p.value), 0) AS DECIMAL(18, 2))                                          AS cumulative_value
    FROM grid AS g JOIN services AS s USING (unit)
    LEFT JOIN per_quarter AS p ON p.unit = g.unit AND p.service_code = s.service_code AND p.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, s.service_code
),
final AS (
    SELECT a.unit, a.quarter, a.service_code,
           coalesce(c.service_name, a.service_code || ' (spoza katalogu)') AS service_name,
           c.area, c.mode, a.deliveries, a.units, a.quarter_value, a.cumulative_value
    FROM amounts AS a LEFT JOIN catalogue AS c USING (unit, service_code)
)
SELECT * FROM final ORDER BY unit, quarter, service_code;
