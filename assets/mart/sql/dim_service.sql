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
