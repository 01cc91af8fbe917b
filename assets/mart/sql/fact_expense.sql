-- mart.fact_expense: one expense document (wydatki.csv) = eligible DIRECT cost of a task,
-- declared in the reporting quarter of its file (not its issue date).
CREATE OR REPLACE TABLE mart.fact_expense AS
WITH expenses AS (
    SELECT * FROM staging.expenses
),
budget AS (
    SELECT unit, task_no, cost_category, any_value(task_name) AS task_name, any_value(category_name) AS category_name
    FROM staging.budget GROUP BY unit, task_no, cost_category
),
final AS (
    SELECT
        e.unit, e.quarter, e.document_no, e.issuer_nip, e.issue_date, e.payment_date,
        e.task_no, b.task_name, e.cost_category, b.category_name, e.item_name,
        e.gross_amount, e.net_amount, e.eligible_amount, e.vat_amount,
        coalesce(e.cross_financing, FALSE) AS cross_financing,
        coalesce(e.fixed_asset, FALSE)     AS fixed_asset,
        coalesce(e.commissioned, FALSE)    AS commissioned,
        coalesce(e.correction, FALSE)      AS correction,
        b.task_name IS NOT NULL            AS in_budget,
        e.source_file, e.file_sha256, e.row_number
    FROM expenses AS e
    LEFT JOIN budget AS b USING (unit, task_no, cost_category)
)
SELECT * FROM final ORDER BY unit, quarter, source_file, row_number;
