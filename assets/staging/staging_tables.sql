-- Validation outputs of the staging step (docs/warehouse.md, "staging").

-- One rejected (severity 'error': row not in staging.<dataset>) or warned ('warning': row kept)
-- cell/row of a landing file. row_number NULL = a rule on the whole file (e.g. budget total).
CREATE TABLE IF NOT EXISTS staging.quarantine (
    unit        VARCHAR   NOT NULL,
    quarter     VARCHAR,            -- NULL for agreement-level files (umowa/)
    dataset     VARCHAR   NOT NULL,
    source_file VARCHAR,
    file_sha256 VARCHAR,
    row_number  BIGINT,             -- row of the file (sheet row for XLSX, line for CSV)
    column_name VARCHAR,
    header      VARCHAR,            -- the Polish header the provider sees
    rule        VARCHAR   NOT NULL, -- rule id = asset check name (schemas/validation/)
    severity    VARCHAR   NOT NULL, -- error | warning
    message     VARCHAR   NOT NULL, -- Polish, for the provider: what is wrong and how to fix it
    value       VARCHAR,            -- the cell as received; NULL for personal-data columns
    checked_at  TIMESTAMP NOT NULL
);

-- Counts per unit × quarter × dataset of the last validation of the partition's file.
CREATE TABLE IF NOT EXISTS staging.validation_summary (
    unit        VARCHAR   NOT NULL,
    quarter     VARCHAR,
    dataset     VARCHAR   NOT NULL,
    source_file VARCHAR,
    file_sha256 VARCHAR,
    received    BIGINT    NOT NULL, -- data rows in the file
    accepted    BIGINT    NOT NULL, -- rows in staging.<dataset>
    quarantined BIGINT    NOT NULL, -- rows rejected (at least one error)
    warnings    BIGINT    NOT NULL, -- accepted rows with at least one warning
    checked_at  TIMESTAMP NOT NULL
);
