"""Descriptions of published tables and columns without a warehouse COMMENT (raw.file_versions,
tables a test or an older warehouse made by hand): from the one definition of every warehouse
table, schemas/warehouse/<layer>.yaml (core/models.py). A column name not described for its table
gets the shared meaning of schemas/warehouse/columns.yaml.
"""

from core.models import column_descriptions, shared_columns, table_descriptions


def table_description(schema: str, table: str) -> str | None:
    return table_descriptions().get((schema, table))


def describe(schema: str, table: str, column: str, comment: str | None) -> str | None:
    """The published description of a column: its warehouse COMMENT, else the models' text."""
    return comment or column_descriptions().get((schema, table, column)) or shared_columns().get(column)


def docs_fingerprint() -> dict[str, str]:
    """Every description, for the publishing policy's fingerprint (a changed text republishes)."""
    texts = {f"{s}.{t}": text for (s, t), text in table_descriptions().items()}
    texts.update({f"{s}.{t}.{c}": text for (s, t, c), text in column_descriptions().items()})
    texts.update({f"*.{c}": text for c, text in shared_columns().items()})
    return texts
