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

COMMENT ON TABLE mart.fact_delivery IS 'Świadczenia (zrealizowane usługi) z kwartalnych plików swiadczenia.csv; kwartał = kwartał sprawozdawczy pliku.';
COMMENT ON COLUMN mart.fact_delivery.quarter IS 'Kwartał sprawozdawczy (folder pliku).';
COMMENT ON COLUMN mart.fact_delivery.participant_id IS 'Identyfikator uczestnika; NULL dla usług środowiskowych.';
COMMENT ON COLUMN mart.fact_delivery.area IS 'Obszar 1–14 z katalogu usług (NULL: kod spoza katalogu).';
COMMENT ON COLUMN mart.fact_delivery.mode IS 'Sposób realizacji z katalogu usług.';
COMMENT ON COLUMN mart.fact_delivery.units IS 'Liczba jednostek usługi.';
COMMENT ON COLUMN mart.fact_delivery.value_given IS 'Wartość z pliku (opcjonalna).';
COMMENT ON COLUMN mart.fact_delivery.value IS 'Wartość świadczenia, zł: z pliku, inaczej liczba jednostek × cena jednostkowa (zaokrąglenie połówkowe w górę do grosza).';
COMMENT ON COLUMN mart.fact_delivery.in_catalogue IS 'Kod usługi występuje w katalogu jednostki.';
COMMENT ON COLUMN mart.fact_delivery.source_file IS 'Plik źródłowy.';
COMMENT ON COLUMN mart.fact_delivery.file_sha256 IS 'SHA-256 wersji pliku.';
COMMENT ON COLUMN mart.fact_delivery.row_number IS 'Numer wiersza w pliku.';
