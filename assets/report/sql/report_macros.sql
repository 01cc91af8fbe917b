-- Polish number formats for the messages of report.flags (1 234 567,89 zł; 69,99%).
CREATE OR REPLACE MACRO report.pl_money(x) AS
    replace(replace(replace(format('{:,.2f}', cast(x AS double)), ',', '#'), '.', ','), '#', ' ') || ' zł';
CREATE OR REPLACE MACRO report.pl_pct(x) AS
    replace(format('{:.2f}', cast(x AS double) * 100), '.', ',') || '%';
CREATE OR REPLACE MACRO report.pl_int(x) AS
    replace(format('{:,d}', cast(x AS bigint)), ',', ' ');

-- Polish name of a contract dataset (reports/labels.py DATASETS, short form).
CREATE OR REPLACE MACRO report.dataset_label(d) AS
    CASE d WHEN 'participants' THEN 'uczestnicy' WHEN 'deliveries' THEN 'świadczenia' WHEN 'expenses' THEN 'wydatki'
           WHEN 'tranches' THEN 'transze' WHEN 'budget' THEN 'budżet' WHEN 'spending_plan' THEN 'harmonogram'
           WHEN 'services' THEN 'katalog usług' WHEN 'indicator_targets' THEN 'wskaźniki'
           WHEN 'milestones' THEN 'kamienie milowe' ELSE d END;
