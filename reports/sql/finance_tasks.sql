-- Eligible direct expenditure by task against the budget, per unit.
-- Reads report.finance_by_task. Task 0 (indirect costs, flat rate) is shown in the settlement
-- table, not among the direct-cost tasks whose total the report prints.
WITH source AS (
    SELECT *
    FROM report.finance_by_task
    WHERE quarter = $quarter
      AND list_contains($units, unit)
),

direct_tasks AS (
    SELECT *
    FROM source
    WHERE task_no IS NULL OR task_no <> 0
),

final AS (
    SELECT
        unit,
        task_no,
        task_name,
        budget,
        quarter_amount,
        cumulative_amount,
        pct
    FROM direct_tasks
)

SELECT * FROM final ORDER BY unit, task_no
