-- report.finance_by_category: eligible direct expenditure by task × cost category vs the budget line.
CREATE OR REPLACE TABLE report.finance_by_category AS
WITH grid AS (
    SELECT unit, quarter FROM mart.unit_quarter WHERE in_report
),
budget AS (
    SELECT unit, task_no, cost_category, any_value(category_name) AS category_name,
           cast(sum(amount) AS DECIMAL(18, 2)) AS budget
    FROM mart.budget_line WHERE task_no >= 1 GROUP BY unit, task_no, cost_category
),
expenses AS (
    SELECT unit, quarter, task_no, cost_category, sum(eligible_amount) AS amount FROM mart.fact_expense GROUP BY ALL
),
lines AS (
    SELECT unit, task_no, cost_category FROM budget
    UNION SELECT unit, task_no, cost_category FROM expenses
),
amounts AS (
    SELECT g.unit, g.quarter, l.task_no, l.cost_category,
           cast(coalesce(sum(e.amount) FILTER (WHERE e.quarter = g.quarter), 0) AS DECIMAL(18, 2)) AS quarter_amount,
           cast(coalesce(sum(e.amount), 0) AS DECIMAL(18, 2))                                      AS cumulative_amount
    FROM grid AS g
    JOIN lines AS l USING (unit)
    LEFT JOIN expenses AS e ON e.unit = g.unit AND e.task_no = l.task_no AND e.cost_category = l.cost_category
                        AND e.quarter <= g.quarter
    GROUP BY g.unit, g.quarter, l.task_no, l.cost_category
),
final AS (
    SELECT a.unit, a.quarter, a.task_no, a.cost_category,
           coalesce(b.category_name, 'Kategoria ' || a.cost_category || ' (spoza budżetu)') AS category_name,
           b.budget, a.quarter_amount, a.cumulative_amount,
           mart.share(a.cumulative_amount, b.budget) AS pct
    FROM amounts AS a LEFT JOIN budget AS b USING (unit, task_no, cost_category)
)
SELECT * FROM final ORDER BY unit, quarter, task_no, cost_category;
