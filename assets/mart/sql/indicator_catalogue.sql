-- mart.indicator_catalogue: schemas/indicators.yaml as a table (registered by the asset as `catalogue_rows`).
CREATE OR REPLACE TABLE mart.indicator_catalogue AS
WITH catalogue AS (
    SELECT * FROM catalogue_rows
),
final AS (
    SELECT code, name, kind, measure_unit, definition, formula, participant_flag, count_quarter,
           cast(by_sex AS BOOLEAN) AS by_sex, cast(age_group AS INTEGER) AS age_group,
           cast(sensitive AS BOOLEAN) AS sensitive, target, cast(sort_order AS INTEGER) AS sort_order
    FROM catalogue
)
SELECT * FROM final ORDER BY sort_order;
