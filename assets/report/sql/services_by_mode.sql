-- report.services_by_mode: deliveries by mode of delivery (own / pes / ngo / social_clause).
CREATE OR REPLACE TABLE report.services_by_mode AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
deliveries AS (
    SELECT unit, quarter, mode, units, value FROM mart.fact_delivery WHERE mode IS NOT NULL
),
commissioned_modes AS (  -- the contract's delivery modes marked `commissioned` (schemas/contract.yaml)
    SELECT mode FROM contract_delivery_modes WHERE commissioned
),
modes AS (
    SELECT DISTINCT unit, mode FROM mart.dim_service WHERE mode IS NOT NULL
    UNION SELECT DISTINCT unit, mode FROM deliveries
),
per_quarter AS (
    SELECT unit, quarter, mode, count(*) AS deliveries, sum(units) AS units, sum(value) AS value
    FROM deliveries GROUP BY unit, quarter, mode
),
final AS (
    SELECT g.unit, g.quarter, m.mode,
           m.mode IN (SELECT mode FROM commissioned_modes)                                            AS commissioned,
           cast(coalesce(sum(p.deliveries) FILTER (WHERE p.quarter = g.quarter), 0) AS BIGINT)        AS deliveries,
           cast(coalesce(sum(p.units) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS units,
           cast(coalesce(sum(p.value) FILTER (WHERE p.quarter = g.quarter), 0) AS DECIMAL(18, 2))     AS quarter_value,
           cast(coalesce(sum(p.value), 0) AS DECIMAL(18, 2))                                          AS cumulative_value
    FROM grid AS g JOIN modes AS m USING (unit)
    LEFT JOIN per_quarter AS p ON p.unit = g.unit AND p.mode = m.mode AND p.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, m.mode
)
SELECT * FROM final ORDER BY unit, quarter, mode;
