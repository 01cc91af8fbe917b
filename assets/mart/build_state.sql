-- What the mart and report tables were built from (assets/mart/incremental.py). A batch records, for
-- every per-unit table, the units whose staging rows it changed; the next rebuild of such a table
-- rebuilds only those units' rows when the table was last built whole from the same fingerprint.
CREATE TABLE IF NOT EXISTS raw.units_to_rebuild (
    table_name VARCHAR   NOT NULL, -- e.g. mart.fact_delivery (a table with `rebuild: per_unit`)
    unit       VARCHAR   NOT NULL,
    changed_at TIMESTAMP NOT NULL  -- the batch that changed the unit's staging rows
);

CREATE TABLE IF NOT EXISTS raw.table_builds (
    table_name  VARCHAR   NOT NULL, -- e.g. mart.fact_delivery
    fingerprint VARCHAR   NOT NULL, -- sha256 of the SQL models, schemas/, the unit registry and the build code
    built_at    TIMESTAMP NOT NULL  -- the table's last whole rebuild
);
