-- Lineage: table macros returning the source rows and file versions behind a report figure.
--   SELECT * FROM report.lineage_expenses('srokowo', '2021Q2', false);  -- documents of the quarter
--   SELECT * FROM report.lineage_expenses('srokowo', '2021Q2', true);   -- ... up to the quarter
-- Every row names its landing file, SHA-256, row number and the file version (raw.file_versions).
-- The fact's columns are selected with `*`, so the same file also creates these macros in the
-- published copy (assets/publish/macros.py), where the facts have lost their personal-data columns;
-- report.lineage_persons reads person-grain tables and exists in the live warehouse only.
CREATE OR REPLACE MACRO report.lineage_expenses(p_unit, p_quarter, p_cumulative) AS TABLE
    SELECT e.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.fact_expense AS e
    LEFT JOIN raw.file_versions AS v
      ON v.unit = e.unit AND v.quarter IS NOT DISTINCT FROM e.quarter AND v.dataset = 'expenses'
     AND v.source_file = e.source_file AND v.file_sha256 = e.file_sha256
    WHERE e.unit = p_unit AND (e.quarter = p_quarter OR (p_cumulative AND e.quarter <= p_quarter))
    ORDER BY e.quarter, e.source_file, e.row_number;

CREATE OR REPLACE MACRO report.lineage_deliveries(p_unit, p_quarter, p_cumulative) AS TABLE
    SELECT d.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.fact_delivery AS d
    LEFT JOIN raw.file_versions AS v
      ON v.unit = d.unit AND v.quarter IS NOT DISTINCT FROM d.quarter AND v.dataset = 'deliveries'
     AND v.source_file = d.source_file AND v.file_sha256 = d.file_sha256
    WHERE d.unit = p_unit AND (d.quarter = p_quarter OR (p_cumulative AND d.quarter <= p_quarter))
    ORDER BY d.quarter, d.source_file, d.row_number;

CREATE OR REPLACE MACRO report.lineage_tranches(p_unit, p_quarter, p_cumulative) AS TABLE
    SELECT t.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.fact_tranche AS t
    LEFT JOIN raw.file_versions AS v
      ON v.unit = t.unit AND v.quarter IS NOT DISTINCT FROM t.quarter AND v.dataset = 'tranches'
     AND v.source_file = t.source_file AND v.file_sha256 = t.file_sha256
    WHERE t.unit = p_unit AND (t.quarter = p_quarter OR (p_cumulative AND t.quarter <= p_quarter))
    ORDER BY t.quarter, t.tranche_no;

-- Persons behind a person-based indicator / profile figure: every participant row of the
-- counted persons (a person under two IDs shows both rows), with the file that carries the
-- current state of the participant.
CREATE OR REPLACE MACRO report.lineage_persons(p_unit, p_quarter, p_code, p_cumulative) AS TABLE
    SELECT c.unit, c.code, c.count_quarter, c.sex, p.participant_id, p.current_quarter AS quarter,
           p.start_date, p.end_date, p.source_file, p.file_sha256, p.row_number,
           v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.person_count AS c
    JOIN mart.dim_participant AS p ON p.unit = c.unit AND coalesce(p.person_key, 'id:' || p.participant_id) = c.person_key
    LEFT JOIN raw.file_versions AS v
      ON v.unit = p.unit AND v.quarter IS NOT DISTINCT FROM p.current_quarter AND v.dataset = 'participants'
     AND v.source_file = p.source_file AND v.file_sha256 = p.file_sha256
    WHERE c.unit = p_unit AND c.code = p_code
      AND (c.count_quarter = p_quarter OR (p_cumulative AND c.count_quarter <= p_quarter))
    ORDER BY c.count_quarter, p.participant_id;

-- Agreement-level rows (budget, plan, catalogue, targets, milestones) are one file per unit.
CREATE OR REPLACE MACRO report.lineage_budget(p_unit) AS TABLE
    SELECT b.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.budget_line AS b
    LEFT JOIN raw.file_versions AS v
      ON v.unit = b.unit AND v.quarter IS NULL AND v.dataset = 'budget'
     AND v.source_file = b.source_file AND v.file_sha256 = b.file_sha256
    WHERE b.unit = p_unit
    ORDER BY b.task_no, b.cost_category;

-- Milestones behind PROD_KAMIENIE and the milestone table (agreement file umowa/kamienie_milowe.csv).
CREATE OR REPLACE MACRO report.lineage_milestones(p_unit) AS TABLE
    SELECT m.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.milestone AS m
    LEFT JOIN raw.file_versions AS v
      ON v.unit = m.unit AND v.quarter IS NULL AND v.dataset = 'milestones'
     AND v.source_file = m.source_file AND v.file_sha256 = m.file_sha256
    WHERE m.unit = p_unit
    ORDER BY m.planned_date, m.code;

-- Plan (harmonogram) behind plan vs actual (umowa/harmonogram.csv): the plan of p_quarter, or up to
-- it with p_cumulative, or the whole plan when p_quarter is NULL.
CREATE OR REPLACE MACRO report.lineage_plan(p_unit, p_quarter, p_cumulative) AS TABLE
    SELECT s.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.spending_plan AS s
    LEFT JOIN raw.file_versions AS v
      ON v.unit = s.unit AND v.quarter IS NULL AND v.dataset = 'spending_plan'
     AND v.source_file = s.source_file AND v.file_sha256 = s.file_sha256
    WHERE s.unit = p_unit
      AND (p_quarter IS NULL OR s.quarter = p_quarter OR (p_cumulative AND s.quarter <= p_quarter))
    ORDER BY s.quarter;

-- Indicator targets (umowa/wskazniki.csv).
CREATE OR REPLACE MACRO report.lineage_targets(p_unit) AS TABLE
    SELECT t.*, v.version_no, v.is_current, v.first_loaded_at, v.last_loaded_at
    FROM mart.indicator_target AS t
    LEFT JOIN raw.file_versions AS v
      ON v.unit = t.unit AND v.quarter IS NULL AND v.dataset = 'indicator_targets'
     AND v.source_file = t.source_file AND v.file_sha256 = t.file_sha256
    WHERE t.unit = p_unit
    ORDER BY t.code;
