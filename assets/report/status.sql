-- Status of every unit × quarter for the coordinator (asset report/status, `cus status`).
-- Inputs registered by assets/report/status.py (empty relations when a table does not exist yet):
--   status_units        registry rows in registry order (unit, position, unit_name, period_start, period_end)
--   status_datasets     quarter-level datasets of the contract (dataset, title, position, every_quarter)
--   src_file_versions   raw.file_versions
--   src_validation      staging.validation_summary
--   src_quarantine      staging.quarantine
--   src_file_refusals   raw.file_refusals (files refused as a whole by the raw step)
--   src_report_files    report files on disk (unit, quarter, format, modified_at)
-- Parameter $today: quarters ending before it are closed.
-- One row per unit × quarter of the calendar covering every unit's period; `status` is one of
-- 'nie dotyczy', 'brak (kwartał zamknięty)', 'brak (kwartał trwa)', 'plik odrzucony', 'kwarantanna',
-- 'brak pliku' (some files came, one normally sent every quarter did not), 'otrzymano', 'raport gotowy'
-- (the first that applies, in this order). A report is outdated when any file it reads was loaded after
-- it was written: the unit's files of its quarter and of every earlier one (the claim's figures are
-- cumulative) and its agreement files (assets/report/rebuild_scope.py, the same rule).
WITH units AS (
    SELECT unit, position, unit_name, period_start, period_end FROM status_units
),
bounds AS (
    SELECT min(period_start) AS first_day, max(period_end) AS last_day FROM units
),
calendar AS (
    SELECT
        cast(d AS DATE)                                             AS start_date,
        cast(d + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)         AS end_date,
        cast(year(d) AS VARCHAR) || 'Q' || cast(quarter(d) AS VARCHAR) AS quarter
    FROM bounds, generate_series(cast(date_trunc('quarter', first_day) AS TIMESTAMP),
                                 cast(last_day AS TIMESTAMP), INTERVAL 3 MONTH) AS g(d)
    WHERE first_day IS NOT NULL
),
grid AS (
    SELECT
        u.unit, u.position, u.unit_name, c.quarter, c.start_date, c.end_date,
        c.end_date >= u.period_start AND c.start_date <= u.period_end AS in_period,
        c.end_date < $today                                           AS quarter_closed
    FROM units AS u
    CROSS JOIN calendar AS c
),
current_files AS (
    SELECT f.unit, f.quarter, f.dataset, f.file_sha256, f.last_loaded_at, d.title, d.position AS dataset_position
    FROM src_file_versions AS f
    JOIN status_datasets AS d ON d.dataset = f.dataset
    WHERE f.is_current AND f.quarter IS NOT NULL
),
validation AS (
    SELECT v.unit, v.quarter, v.dataset, v.received, v.accepted, v.quarantined, v.warnings
    FROM src_validation AS v
    JOIN current_files AS f ON f.unit = v.unit AND f.quarter = v.quarter AND f.dataset = v.dataset
),
staging_refusals AS (
    -- a dataset-level error rule refused the whole file (staging keeps the earlier rows)
    SELECT unit, quarter, dataset, min(message) AS reason
    FROM src_quarantine
    WHERE row_number IS NULL AND severity = 'error' AND quarter IS NOT NULL
    GROUP BY unit, quarter, dataset
),
raw_refusals AS (
    -- the raw step refused the file (unreadable, missing columns, another unit's file): the latest one
    SELECT unit, quarter, dataset, arg_max(problem, refused_at) AS reason, max(refused_at) AS refused_at
    FROM src_file_refusals
    WHERE quarter IS NOT NULL
    GROUP BY unit, quarter, dataset
),
sent AS (
    SELECT unit, quarter, dataset FROM current_files
    UNION
    SELECT r.unit, r.quarter, r.dataset FROM raw_refusals AS r JOIN status_datasets AS d ON d.dataset = r.dataset
),
per_file AS (
    SELECT
        s.unit, s.quarter, s.dataset, d.title, d.position AS dataset_position, f.last_loaded_at,
        f.dataset IS NOT NULL                                          AS has_file,
        CASE WHEN rr.refused_at > coalesce(f.last_loaded_at, TIMESTAMP '1900-01-01') THEN rr.reason
             WHEN f.dataset IS NOT NULL THEN sr.reason END             AS refusal
    FROM sent AS s
    JOIN status_datasets AS d ON d.dataset = s.dataset
    LEFT JOIN current_files AS f ON f.unit = s.unit AND f.quarter = s.quarter AND f.dataset = s.dataset
    LEFT JOIN raw_refusals AS rr ON rr.unit = s.unit AND rr.quarter = s.quarter AND rr.dataset = s.dataset
    LEFT JOIN staging_refusals AS sr ON sr.unit = s.unit AND sr.quarter = s.quarter AND sr.dataset = s.dataset
),
counted AS (
    SELECT
        p.*,
        CASE WHEN p.refusal IS NULL THEN coalesce(v.quarantined, 0) ELSE 0 END AS error_rows,
        coalesce(v.warnings, 0)                                        AS warning_rows
    FROM per_file AS p
    LEFT JOIN validation AS v ON v.unit = p.unit AND v.quarter = p.quarter AND v.dataset = p.dataset
),
missing_files AS (
    -- files sent every quarter (schemas/contract.yaml `every_quarter`) that a quarter with other files lacks
    SELECT k.unit, k.quarter, string_agg(d.title, ', ' ORDER BY d.position) AS missing_files
    FROM (SELECT DISTINCT unit, quarter FROM sent) AS k
    CROSS JOIN status_datasets AS d
    WHERE d.every_quarter
      AND NOT EXISTS (SELECT 1 FROM sent AS s WHERE s.unit = k.unit AND s.quarter = k.quarter AND s.dataset = d.dataset)
    GROUP BY k.unit, k.quarter
),
inputs_loaded AS (
    -- the last load of any file a unit × quarter's report reads
    SELECT g.unit, g.quarter, max(f.last_loaded_at) AS inputs_loaded_at
    FROM grid AS g
    JOIN src_file_versions AS f
        ON f.unit = g.unit AND f.is_current AND (f.quarter IS NULL OR f.quarter <= g.quarter)
    GROUP BY g.unit, g.quarter
),
received AS (
    SELECT
        unit, quarter,
        cast(count(*) FILTER (WHERE has_file) AS BIGINT)                AS files_received,
        string_agg(CASE WHEN has_file THEN title END, ', ' ORDER BY dataset_position) AS files,
        string_agg(CASE WHEN refusal IS NOT NULL THEN title || ': ' || refusal END, '; '
                   ORDER BY dataset_position)                           AS refused_files,
        cast(sum(error_rows) AS BIGINT)                                 AS quarantined_rows,
        cast(sum(warning_rows) AS BIGINT)                               AS warning_rows,
        string_agg(CASE WHEN error_rows > 0 THEN title || ': ' || cast(error_rows AS VARCHAR) END, ', '
                   ORDER BY dataset_position)                           AS quarantined_files,
        max(last_loaded_at)                                             AS last_loaded_at
    FROM counted
    GROUP BY unit, quarter
),
reports AS (
    SELECT
        unit, quarter,
        bool_or(format = 'html')                                        AS has_html,
        string_agg(format, ', ' ORDER BY format)                        AS report_formats,
        min(modified_at)                                                AS report_written_at
    FROM src_report_files
    GROUP BY unit, quarter
),
final AS (
    SELECT
        g.unit, g.position, g.unit_name, g.quarter, g.in_period, g.quarter_closed,
        coalesce(r.files_received, 0)                                   AS files_received,
        r.files, r.refused_files,
        coalesce(r.quarantined_rows, 0)                                 AS quarantined_rows,
        coalesce(r.warning_rows, 0)                                     AS warning_rows,
        r.quarantined_files,
        CASE WHEN coalesce(r.quarantined_rows, 0) > 0 THEN 'błąd'
             WHEN coalesce(r.warning_rows, 0) > 0 THEN 'ostrzeżenie' END AS quarantine_severity,
        r.last_loaded_at,
        coalesce(p.has_html, FALSE)                                     AS report_ready,
        p.report_formats,
        p.report_written_at,
        coalesce(p.has_html AND i.inputs_loaded_at IS NOT NULL AND p.report_written_at < i.inputs_loaded_at, FALSE)
                                                                        AS report_outdated,
        m.missing_files,
        CASE
            WHEN NOT g.in_period THEN 'nie dotyczy'
            WHEN r.unit IS NULL AND g.quarter_closed THEN 'brak (kwartał zamknięty)'
            WHEN r.unit IS NULL THEN 'brak (kwartał trwa)'
            WHEN r.refused_files IS NOT NULL THEN 'plik odrzucony'
            WHEN r.quarantined_rows > 0 THEN 'kwarantanna'
            WHEN m.missing_files IS NOT NULL THEN 'brak pliku'
            WHEN p.has_html AND p.report_written_at >= coalesce(i.inputs_loaded_at, r.last_loaded_at) THEN 'raport gotowy'
            ELSE 'otrzymano'
        END                                                             AS status
    FROM grid AS g
    LEFT JOIN received AS r ON r.unit = g.unit AND r.quarter = g.quarter
    LEFT JOIN reports AS p ON p.unit = g.unit AND p.quarter = g.quarter
    LEFT JOIN missing_files AS m ON m.unit = g.unit AND m.quarter = g.quarter
    LEFT JOIN inputs_loaded AS i ON i.unit = g.unit AND i.quarter = g.quarter
)
SELECT * FROM final ORDER BY position, quarter
