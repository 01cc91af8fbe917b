-- mart.indicator_target: target values of the agreement (umowa/wskazniki.csv).
CREATE OR REPLACE TABLE mart.indicator_target AS
WITH targets AS (
    SELECT * FROM staging.indicator_targets
),
final AS (
    SELECT unit, upper(trim(indicator_code)) AS code, target_total, target_women, target_men,
           source_file, file_sha256, row_number
    FROM targets
)
SELECT * FROM final ORDER BY unit, code;
