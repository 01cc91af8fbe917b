-- mart.unit_quarter: the reporting grid, one row per unit × quarter of its project period.
-- in_report = the quarter is at most the unit's last quarter with data (any quarterly file
-- accepted or validated), so report tables carry zeros / cumulatives through quarters without files.
CREATE OR REPLACE TABLE mart.unit_quarter AS
WITH units AS (
    SELECT unit, period_start, period_end, quarter_count FROM mart.dim_unit
),
calendar AS (
    SELECT quarter, start_date, end_date FROM mart.dim_quarter
),
data_quarters AS (
    SELECT unit, quarter FROM staging.participants
    UNION SELECT unit, quarter FROM staging.deliveries
    UNION SELECT unit, quarter FROM staging.expenses
    UNION SELECT unit, quarter FROM staging.tranches
    UNION SELECT unit, quarter FROM src_validation_summary WHERE quarter IS NOT NULL
),
grid AS (
    SELECT u.unit, c.quarter, c.start_date, c.end_date, u.quarter_count,
           cast(row_number() OVER (PARTITION BY u.unit ORDER BY c.quarter) AS INTEGER) AS quarter_index
    FROM units AS u
    JOIN calendar AS c ON c.end_date >= u.period_start AND c.start_date <= u.period_end
),
last_data AS (
    SELECT unit, max(quarter) AS last_data_quarter FROM data_quarters GROUP BY unit
),
final AS (
    SELECT
        g.unit, g.quarter, g.start_date, g.end_date, g.quarter_index, g.quarter_count,
        cast(g.quarter_count - g.quarter_index AS INTEGER)            AS quarters_remaining,
        exists (SELECT 1 FROM data_quarters AS d WHERE d.unit = g.unit AND d.quarter = g.quarter) AS has_data,
        l.last_data_quarter,
        coalesce(g.quarter <= l.last_data_quarter, FALSE)             AS in_report
    FROM grid AS g
    LEFT JOIN last_data AS l USING (unit)
)
SELECT * FROM final ORDER BY unit, quarter;
