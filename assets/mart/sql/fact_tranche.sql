-- mart.fact_tranche: advance tranches received (transze.csv), by reporting quarter of the file.
CREATE OR REPLACE TABLE mart.fact_tranche AS
WITH tranches AS (
    SELECT * FROM staging.tranches
),
final AS (
    SELECT unit, quarter, tranche_no, received_date, amount_total, amount_eu, amount_state,
           amount_eu + amount_state = amount_total AS parts_add_up,
           source_file, file_sha256, row_number
    FROM tranches
)
SELECT * FROM final ORDER BY unit, quarter, tranche_no;
