-- mart.dim_unit: one row per CUS unit of the registry (config/units.yaml), with the agreement's
-- money settings and the computed EU / national parts of the agreement total.
-- Input: the registry rows registered by the asset as `registry_units` (text columns).
CREATE OR REPLACE TABLE mart.dim_unit AS
WITH registry AS (
    SELECT * FROM registry_units
),
typed AS (
    SELECT
        key                                             AS unit,
        name                                            AS unit_name,
        gmina, voivodeship, transformation, agreement_no,
        cast(nullif(agreement_signed, '') AS DATE)      AS agreement_signed,
        cast(period_start AS DATE)                      AS period_start,
        cast(period_end AS DATE)                        AS period_end,
        cast(cus_start AS DATE)                         AS cus_start,
        cast(total AS DECIMAL(18, 2))                   AS total,
        cast(eu_rate AS DECIMAL(9, 4))                  AS eu_rate,
        cast(indirect_rate AS DECIMAL(9, 4))            AS indirect_rate,
        cast(cross_financing_limit AS DECIMAL(9, 4))    AS cross_financing_limit,
        cast(fixed_assets_limit AS DECIMAL(9, 4))       AS fixed_assets_limit,
        cast(commissioned_threshold AS DECIMAL(9, 4))   AS commissioned_threshold,
        cast(advance_spent_threshold AS DECIMAL(9, 4))  AS advance_spent_threshold,
        programme, call
    FROM registry
),
final AS (
    SELECT
        *,
        mart.eu_part(total, eu_rate)                    AS total_eu,
        mart.national_part(total, eu_rate)              AS total_national,
        mart.quarter_label(period_start)                AS first_quarter,
        mart.quarter_label(period_end)                  AS last_quarter,
        mart.quarter_label(cus_start)                   AS cus_start_quarter,
        cast((year(period_end) * 4 + quarter(period_end)) - (year(period_start) * 4 + quarter(period_start)) + 1
             AS INTEGER)                                AS quarter_count
    FROM typed
)
SELECT * FROM final ORDER BY unit;
