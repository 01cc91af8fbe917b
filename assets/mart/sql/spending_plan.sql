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
