-- mart.budget_line: budget lines of the agreement (umowa/budzet.csv); task 0 = indirect costs.
CREATE OR REPLACE TABLE mart.budget_line AS
WITH budget AS (
    SELECT * FROM staging.budget
),
final AS (
    SELECT unit, task_no, task_name, cost_category, category_name, amount,
           task_no = 0 AS is_indirect,
           coalesce(cross_financing, FALSE) AS cross_financing,
           coalesce(fixed_asset, FALSE)     AS fixed_asset,
           coalesce(commissioned, FALSE)    AS commissioned,
           source_file, file_sha256, row_number
    FROM budget
)
SELECT * FROM final ORDER BY unit, task_no, cost_category;
