-- mart.narrative: the descriptive part of a payment claim (<RRRR>Q<n>/opis_postepu.xlsx|csv):
-- progress per task, problems and corrective actions, plan for the next quarter, sign-off rows.
CREATE OR REPLACE TABLE mart.narrative AS
WITH narrative AS (
    SELECT * FROM staging.narrative
),

tasks AS (
    SELECT unit, task_no, any_value(task_name) AS task_name
    FROM staging.budget
    GROUP BY unit, task_no
),

final AS (
    SELECT
        n.unit,
        n.quarter,
        n.part,
        n.task_no,
        t.task_name,
        n.narrative_text,
        n.signed_on,
        n.source_file,
        n.file_sha256,
        n.row_number
    FROM narrative AS n
    LEFT JOIN tasks AS t ON n.unit = t.unit AND n.task_no = t.task_no
)

SELECT * FROM final ORDER BY unit, quarter, row_number;
