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

COMMENT ON TABLE mart.fact_tranche IS 'Transze zaliczki otrzymane przez jednostkę (transze.csv); kwartał = kwartał wniosku.';
COMMENT ON COLUMN mart.fact_tranche.amount_total IS 'Kwota transzy ogółem, zł.';
COMMENT ON COLUMN mart.fact_tranche.amount_eu IS 'W tym EFS, zł.';
COMMENT ON COLUMN mart.fact_tranche.amount_state IS 'W tym budżet państwa, zł.';
COMMENT ON COLUMN mart.fact_tranche.parts_add_up IS 'EFS + budżet państwa = ogółem.';
