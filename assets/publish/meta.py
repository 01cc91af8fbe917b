"""The `meta` schema of the published copy: what was published, when, and what was left out."""

from __future__ import annotations

import duckdb

from core.warehouse import sql_literal

META_SCHEMA = "meta"


def create_meta_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"CREATE SCHEMA {META_SCHEMA}")
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.publication (published_at TIMESTAMP WITH TIME ZONE, source_file VARCHAR, "
        "source_fingerprint VARCHAR, run_id VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.tables (schema_name VARCHAR, table_name VARCHAR, row_count BIGINT, "
        "description VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.columns (schema_name VARCHAR, table_name VARCHAR, column_name VARCHAR, "
        "data_type VARCHAR, description VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.dropped_columns (schema_name VARCHAR, table_name VARCHAR, "
        "column_name VARCHAR, reason VARCHAR)"
    )
    conn.execute(
        f"CREATE TABLE {META_SCHEMA}.withheld_tables (schema_name VARCHAR, table_name VARCHAR, reason VARCHAR)"
    )


META_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "publication": (
        "Kiedy i z czego powstała ta kopia. When and from what this copy was published.",
        {
            "published_at": "czas publikacji (UTC) / publication time",
            "source_file": "plik hurtowni, z którego skopiowano dane / warehouse file copied",
            "source_fingerprint": "rozmiar i czas modyfikacji hurtowni w chwili kopii / warehouse size and mtime",
            "run_id": "przebieg Dagster, po którym opublikowano (puste dla `cus publish`) / Dagster run that triggered it",
        },
    ),
    "tables": (
        "Spis opublikowanych tabel z liczbą wierszy i opisem. Published tables with row counts.",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "row_count": "liczba wierszy w tej kopii / rows in this copy",
            "description": "opis tabeli / table description",
        },
    ),
    "columns": (
        "Spis kolumn opublikowanych tabel z typem i opisem. Published columns with type and description.",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "column_name": "kolumna / column",
            "data_type": "typ DuckDB / DuckDB type",
            "description": "opis kolumny / column description",
        },
    ),
    "dropped_columns": (
        "Kolumny hurtowni pominięte w kopii (dane osobowe) i powód. Warehouse columns left out (personal data).",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "column_name": "pominięta kolumna / dropped column",
            "reason": "powód pominięcia / why it was dropped",
        },
    ),
    "withheld_tables": (
        "Tabele hurtowni niepublikowane w kopii (poziom osoby) i powód. Warehouse tables not published (person grain).",
        {
            "schema_name": "schemat / schema",
            "table_name": "tabela / table",
            "reason": "powód / why it is not published",
        },
    ),
}


def comment_meta_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table, (description, columns) in META_DOCS.items():
        conn.execute(f"COMMENT ON TABLE {META_SCHEMA}.{table} IS {sql_literal(description)}")
        for column, text in columns.items():
            conn.execute(f"COMMENT ON COLUMN {META_SCHEMA}.{table}.{column} IS {sql_literal(text)}")


