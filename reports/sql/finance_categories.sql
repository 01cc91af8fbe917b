-- Eligible direct expenditure by task and cost category against the budget, per unit.
-- Reads report.finance_by_category (task 0 = indirect costs is left to the settlement table).
WITH source AS (
    SELECT *
    FROM report.finance_by_category
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

direct_lines AS (
    SELECT *
    FROM source
    WHERE task_no IS NULL OR task_no <> 0
),

final AS (
    SELECT
        unit,
        task_no,
        cost_category,
        category_name,
        budget,
        quarter_amount,
        cumulative_amount,
        pct
    FROM direct_lines
)

SELECT * FROM final ORDER BY unit, task_no, cost_category
