"""Quoting for the catalog names and texts the copy writes into DDL (never user input)."""


def quote_ident(name: str) -> str:
    """Quote a catalog identifier (names come from the warehouse catalog, never from users)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A string literal for COMMENT ON and ATTACH (DuckDB does not bind parameters there)."""
    return "'" + text.replace("'", "''") + "'"
