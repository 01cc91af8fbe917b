"""Publishing the warehouse for ad hoc SQL: a read-only copy without personal data.

The policy (what may leave the warehouse, and why not) is data: schemas/publish.yaml, read by
core/privacy.py. This package does the work, one module per job:

    copy.py         the copy engine: `publish()` (tables under the policy, disclosure control, meta)
    store.py        the published folder: copies, current.duckdb, manifest, lock, cleanup, connect
    macros.py       scalar and lineage macros in the copy
    meta.py         the `meta` schema (tables, columns, dropped columns, withheld tables)
    docs.py         the generated table list of docs/sql.md
    column_docs.py  descriptions of columns without a warehouse COMMENT

The Dagster publish job and its sensor are in the code location (pipelines/jobs.py,
pipelines/sensors.py).
"""

from assets.publish.copy import PublishedTable, PublishResult, policy_fingerprint, publish
from assets.publish.docs import (
    DOCS_BEGIN,
    DOCS_END,
    documented_columns,
    generated_section,
    render_table_docs,
    write_table_docs,
)
from assets.publish.store import CURRENT_LINK, MANIFEST, PublishError, connect_published, current_copy, read_manifest
from core.privacy import column_policy, is_published_table, withheld_reason

__all__ = [
    "CURRENT_LINK", "DOCS_BEGIN", "DOCS_END", "MANIFEST", "PublishError", "PublishResult", "PublishedTable",
    "column_policy", "connect_published", "current_copy", "documented_columns", "generated_section",
    "is_published_table", "policy_fingerprint", "publish", "read_manifest", "render_table_docs", "withheld_reason",
    "write_table_docs",
]
