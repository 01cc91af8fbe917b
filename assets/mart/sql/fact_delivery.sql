-- mart.fact_delivery: one service delivery (swiadczenia.csv) with its value and the catalogue's
-- area and mode. value = the file's Wartość, else units × unit_price rounded half up to the grosz.
CREATE OR REPLACE TABLE mart.fact_delivery AS
WITH deliveries AS (
    SELECT * FROM staging.deliveries
),
services AS (
    SELECT unit, service_code, service_name, area, mode, commissioned, unit_price FROM mart.dim_service
),
final AS (
    SELECT
        d.unit, d.quarter, d.participant_id, d.service_code, s.service_name, s.area, s.mode, s.commissioned,
        d.delivery_date, d.units,
        d.value                                                             AS value_given,
        cast(coalesce(d.value, d.units * s.unit_price) AS DECIMAL(18, 2))   AS value,
        nullif(trim(d.ipus_no), '')                                         AS ipus_no,
        s.service_code IS NOT NULL                                          AS in_catalogue,
        d.source_file, d.file_sha256, d.row_number
    FROM deliveries AS d
    LEFT JOIN services AS s USING (unit, service_code)
)
SELECT * FROM final ORDER BY unit, quarter, source_file, row_number;
