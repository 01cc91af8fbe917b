-- mart.dim_service: the service catalogue of each unit's agreement (umowa/uslugi.csv).
CREATE OR REPLACE TABLE mart.dim_service AS
WITH services AS (
    SELECT * FROM staging.services
),
commissioned_modes AS (  -- the contract's delivery modes marked `commissioned` (schemas/contract.yaml)
    SELECT mode FROM contract_delivery_modes WHERE commissioned
),
final AS (
    SELECT
        unit, service_code, service_name, area, delivery_mode AS mode,
        delivery_mode IN (SELECT mode FROM commissioned_modes) AS commissioned,
        provider, provider_nip, unit_of_measure, unit_price,
        source_file, file_sha256, row_number
    FROM services
)
SELECT * FROM final ORDER BY unit, service_code;

COMMENT ON TABLE mart.dim_service IS 'Katalog usług jednostki (umowa/uslugi.csv).';
COMMENT ON COLUMN mart.dim_service.service_code IS 'Kod usługi.';
COMMENT ON COLUMN mart.dim_service.area IS 'Obszar usług (1–14) wg art. 2 ust. 1 ustawy o CUS.';
COMMENT ON COLUMN mart.dim_service.mode IS 'Sposób realizacji: own, pes, ngo, social_clause.';
COMMENT ON COLUMN mart.dim_service.commissioned IS 'Usługa zlecona podmiotowi zewnętrznemu (pes, ngo, social_clause).';
COMMENT ON COLUMN mart.dim_service.unit_price IS 'Cena jednostkowa, zł, DECIMAL(18,2).';
