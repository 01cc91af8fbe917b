-- report.finance_by_task: eligible direct expenditure by task (task_no ≥ 1) vs the budget.
CREATE OR REPLACE TABLE report.finance_by_task AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
budget AS (
    SELECT unit, task_no, any_value(task_name ORDER BY cost_category) AS task_name,
           cast(sum(amount) AS DECIMAL(18, 2)) AS budget
    FROM mart.budget_line WHERE task_no >= 1 GROUP BY unit, task_no
),
expenses AS (
    SELECT unit, quarter, task_no, sum(eligible_amount) AS amount FROM mart.fact_expense GROUP BY ALL
),
tasks AS (
    SELECT unit, task_no FROM budget UNION SELECT unit, task_no FROM expenses
),
amounts AS (
    SELECT g.unit, g.quarter, t.task_no,
           cast(coalesce(sum(e.amount) FILTER (WHERE e.quarter = g.quarter), 0) AS DECIMAL(18, 2)) AS quarter_amount,
           cast(coalesce(sum(e.amount), 0) AS DECIMAL(18, 2))                                      AS cumulative_amount
    FROM grid AS g
    JOIN tasks AS t USING (unit)
    LEFT JOIN expenses AS e ON e.unit = g.unit AND e.task_no = t.task_no AND e.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, t.task_no
),
final AS (
    SELECT a.unit, a.quarter, a.task_no, coalesce(b.task_name, 'Zadanie ' || a.task_no || ' (spoza budżetu)') AS task_name,
           b.budget, a.quarter_amount, a.cumulative_amount,
           mart.share(a.cumulative_amount, b.budget) AS pct
    FROM amounts AS a LEFT JOIN budget AS b USING (unit, task_no)
)
SELECT * FROM final ORDER BY unit, quarter, task_no;
