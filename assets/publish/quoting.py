"""Quoting for the catalog names the copy writes into DDL (never user input); string literals:
core.warehouse.sql_literal."""


def quote_ident(name: str) -> str:
    """Quote a catalog identifier (names come from the warehouse catalog, never from users)."""
    return '"' + name.replace('"', '""') + '"'


