-- Polish number formats for the messages of report.flags (1 234 567,89 zł; 69,99%), the same as
-- reports/formatting.py. Money stays exact DECIMAL: rounded half up to the grosz, the whole złoty
-- grouped by thousands, the grosze appended (never through DOUBLE).
-- report.dataset_label(d) is created from the contract's labels (assets/mart/sql_tables.py).
CREATE OR REPLACE MACRO report.pl_money(x) AS
    CASE WHEN cast(x AS decimal(38, 2)) < 0 THEN '-' ELSE '' END
    || replace(format('{:,d}', cast(trunc(abs(cast(x AS decimal(38, 2)))) AS hugeint)), ',', ' ')
    || ',' || lpad(cast(cast(abs(cast(x AS decimal(38, 2))) * 100 % 100 AS integer) AS varchar), 2, '0')
    || ' zł';
CREATE OR REPLACE MACRO report.pl_pct(x) AS
    replace(format('{:.2f}', cast(x AS double) * 100), '.', ',') || '%';
CREATE OR REPLACE MACRO report.pl_int(x) AS
    replace(format('{:,d}', cast(x AS bigint)), ',', ' ');
