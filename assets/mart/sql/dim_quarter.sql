-- mart.dim_quarter: the quarter calendar covering every unit's project period.
CREATE OR REPLACE TABLE mart.dim_quarter AS
WITH bounds AS (
    SELECT min(period_start) AS first_day, max(period_end) AS last_day FROM mart.dim_unit
),
starts AS (
    SELECT cast(d AS DATE) AS start_date
    FROM bounds, generate_series(cast(date_trunc('quarter', first_day) AS TIMESTAMP),
                                 cast(last_day AS TIMESTAMP), INTERVAL 3 MONTH) AS g(d)
    WHERE first_day IS NOT NULL
),
final AS (
    SELECT
        mart.quarter_label(start_date)                                   AS quarter,
        cast(year(start_date) AS INTEGER)                                AS year,
        cast(quarter(start_date) AS INTEGER)                             AS quarter_no,
        start_date,
        cast(start_date + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)    AS end_date,
        ['I', 'II', 'III', 'IV'][quarter(start_date)] || ' kw. ' || cast(year(start_date) AS VARCHAR) AS label
    FROM starts
)
SELECT * FROM final ORDER BY quarter;
