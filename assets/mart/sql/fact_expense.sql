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
        b.task_name IS NOT NULL            AS in_budget,
        e.source_file, e.file_sha256, e.row_number
    FROM expenses AS e
    LEFT JOIN budget AS b USING (unit, task_no, cost_category)
)
SELECT * FROM final ORDER BY unit, quarter, source_file, row_number;

COMMENT ON TABLE mart.fact_expense IS 'Dokumenty księgowe (wydatki.csv): wydatki kwalifikowalne bezpośrednie zadań; kwartał = kwartał wniosku (folder pliku).';
COMMENT ON COLUMN mart.fact_expense.document_no IS 'Numer dokumentu.';
COMMENT ON COLUMN mart.fact_expense.task_no IS 'Nr zadania budżetu (≥ 1, koszty bezpośrednie).';
COMMENT ON COLUMN mart.fact_expense.cost_category IS 'Kategoria kosztów budżetu.';
COMMENT ON COLUMN mart.fact_expense.eligible_amount IS 'Kwota wydatków kwalifikowalnych, zł, DECIMAL(18,2).';
COMMENT ON COLUMN mart.fact_expense.cross_financing IS 'Wydatek w ramach cross-financingu (T).';
COMMENT ON COLUMN mart.fact_expense.fixed_asset IS 'Zakup środka trwałego (T).';
COMMENT ON COLUMN mart.fact_expense.commissioned IS 'Usługa zlecona podmiotowi zewnętrznemu (T).';
COMMENT ON COLUMN mart.fact_expense.in_budget IS 'Para zadanie/kategoria występuje w budżecie umowy.';
COMMENT ON COLUMN mart.fact_expense.source_file IS 'Plik źródłowy.';
COMMENT ON COLUMN mart.fact_expense.file_sha256 IS 'SHA-256 wersji pliku.';
COMMENT ON COLUMN mart.fact_expense.row_number IS 'Numer wiersza w pliku.';
