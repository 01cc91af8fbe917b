-- Every version of every landing file ever loaded: a re-sent corrected file is a new version.
CREATE TABLE IF NOT EXISTS raw.file_versions (
    unit            VARCHAR   NOT NULL,
    quarter         VARCHAR,            -- NULL for agreement-level files (umowa/)
    dataset         VARCHAR   NOT NULL,
    source_file     VARCHAR   NOT NULL, -- path below the landing folder
    file_sha256     VARCHAR   NOT NULL,
    version_no      INTEGER   NOT NULL, -- 1 for the first delivery, +1 for each different content
    size_bytes      BIGINT,
    encoding        VARCHAR,
    rows_loaded     BIGINT,
    ignored_columns VARCHAR[],
    first_loaded_at TIMESTAMP NOT NULL,
    last_loaded_at  TIMESTAMP NOT NULL,
    is_current      BOOLEAN   NOT NULL
);

-- Every landing file refused as a whole by the raw step (unreadable, no table, missing required
-- columns, another unit's file): nothing else is written, so this is the only trace in the
-- warehouse. A refusal newer than the partition's current file version means the unit still has
-- to send a correct file (assets/report/status.sql).
CREATE TABLE IF NOT EXISTS raw.file_refusals (
    unit        VARCHAR   NOT NULL,
    quarter     VARCHAR,            -- NULL for agreement-level files (umowa/)
    dataset     VARCHAR   NOT NULL,
    source_file VARCHAR   NOT NULL, -- path below the landing folder
    problem     VARCHAR   NOT NULL, -- Polish: what is wrong with the file
    fix         VARCHAR   NOT NULL, -- Polish: what the provider should do
    refused_at  TIMESTAMP NOT NULL
);
