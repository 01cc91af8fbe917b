-- mart.spending_plan: planned eligible expenditure (direct + indirect) per quarter (umowa/harmonogram.csv).
CREATE OR REPLACE TABLE mart.spending_plan AS
WITH plan AS (
    SELECT * FROM staging.spending_plan
),
final AS (
    SELECT unit, plan_quarter AS quarter, planned_amount, source_file, file_sha256, row_number
    FROM plan
)
SELECT * FROM final ORDER BY unit, quarter;

COMMENT ON TABLE mart.spending_plan IS 'Harmonogram: planowane wydatki kwalifikowalne (bezpośrednie + pośrednie) na kwartał.';
COMMENT ON COLUMN mart.spending_plan.quarter IS 'Kwartał planu, np. 2021Q1.';
COMMENT ON COLUMN mart.spending_plan.planned_amount IS 'Planowane wydatki, zł, DECIMAL(18,2).';
