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

COMMENT ON TABLE mart.dim_unit IS 'Jednostki (CUS) z rejestru config/units.yaml: okres, kwota umowy, stawki i limity; część UE/krajowa kwoty umowy wg assets/mart/money_macros.sql.';
COMMENT ON COLUMN mart.dim_unit.unit IS 'Klucz jednostki (ASCII), np. elblag.';
COMMENT ON COLUMN mart.dim_unit.unit_name IS 'Nazwa jednostki.';
COMMENT ON COLUMN mart.dim_unit.agreement_no IS 'Numer umowy o dofinansowanie.';
COMMENT ON COLUMN mart.dim_unit.period_start IS 'Początek okresu realizacji projektu.';
COMMENT ON COLUMN mart.dim_unit.period_end IS 'Koniec okresu realizacji projektu.';
COMMENT ON COLUMN mart.dim_unit.cus_start IS 'Data uruchomienia CUS (wskaźnik PROD_CUS).';
COMMENT ON COLUMN mart.dim_unit.total IS 'Wartość projektu wg umowy, zł, DECIMAL(18,2).';
COMMENT ON COLUMN mart.dim_unit.eu_rate IS 'Udział EFS (0.8428), DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.indirect_rate IS 'Stawka ryczałtowa kosztów pośrednich od kosztów bezpośrednich, DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.cross_financing_limit IS 'Limit cross-financingu jako udział w wydatkach kwalifikowalnych, DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.fixed_assets_limit IS 'Limit środków trwałych jako udział w wydatkach kwalifikowalnych, DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.commissioned_threshold IS 'Minimalny udział usług zleconych w kosztach bezpośrednich, DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.advance_spent_threshold IS 'Próg rozliczenia otrzymanych zaliczek dla kolejnej transzy (0.70), DECIMAL(9,4).';
COMMENT ON COLUMN mart.dim_unit.total_eu IS 'Część EFS kwoty umowy: total × eu_rate zaokrąglone w dół do grosza.';
COMMENT ON COLUMN mart.dim_unit.total_national IS 'Część budżetu państwa: total − total_eu.';
COMMENT ON COLUMN mart.dim_unit.first_quarter IS 'Pierwszy kwartał sprawozdawczy (okres realizacji).';
COMMENT ON COLUMN mart.dim_unit.last_quarter IS 'Ostatni kwartał sprawozdawczy (okres realizacji).';
COMMENT ON COLUMN mart.dim_unit.cus_start_quarter IS 'Kwartał uruchomienia CUS.';
COMMENT ON COLUMN mart.dim_unit.quarter_count IS 'Liczba kwartałów okresu realizacji.';
