"""Macros in the published copy: the warehouse's scalar macros (money rules, Polish formatting)
and the lineage table macros of assets/report/sql/lineage_macros.sql.

Lineage: the macros select the facts' columns with `*`, so in the copy they return the published
columns only; report.lineage_persons reads the person-grain tables, which are withheld, so it fails
to create here and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from assets.mart.sql_tables import LINEAGE_MACROS_SQL
from assets.publish.quoting import quote_ident
from core.privacy import load_policy

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def lineage_macro_statements() -> dict[str, str]:
    """macro name -> its CREATE statement, from assets/report/sql/lineage_macros.sql."""
    statements = {}
    for statement in LINEAGE_MACROS_SQL.read_text(encoding="utf-8").split(";"):
        match = re.search(r"CREATE OR REPLACE MACRO report\.(\w+)", statement)
        if match:
            statements[match.group(1)] = statement.strip()
    return statements


def copy_scalar_macros(conn: duckdb.DuckDBPyConnection, say: Callable[[str], None]) -> list[str]:
    """Copy the warehouse's scalar macros of the published schemas (money rules mart.eu_part,
    mart.national_part, mart.indirect_costs…, Polish formatting report.pl_money…): pure expressions
    only — a macro with a subquery could read a table that is not published."""
    rows = conn.execute(
        "SELECT schema_name, function_name, parameters, macro_definition FROM duckdb_functions() "
        "WHERE database_name = 'wh' AND function_type = 'macro' AND NOT internal ORDER BY schema_name, function_name"
    ).fetchall()
    pending = [(s, n, p, d) for s, n, p, d in rows
               if s in load_policy().published_schemas and d and "SELECT" not in d.upper() and _IDENT.match(n)
               and all(_IDENT.match(x) for x in p)]
    created: list[str] = []
    while pending:  # a macro may call another (national_part -> eu_part): retry until no progress
        failed = []
        for schema, name, params, definition in pending:
            try:
                conn.execute(f"CREATE MACRO {quote_ident(schema)}.{quote_ident(name)}({', '.join(params)}) "
                             f"AS {definition}")
                created.append(f"{schema}.{name}")
            except duckdb.Error:
                failed.append((schema, name, params, definition))
        if len(failed) == len(pending):
            for schema, name, *_ in failed:
                say(f"  makro {schema}.{name} pominięte (nie da się go odtworzyć w kopii)")
            break
        pending = failed
    return created


def create_lineage_macros(conn: duckdb.DuckDBPyConnection, say: Callable[[str], None]) -> list[str]:
    """Create the lineage macros whose tables and columns were published; skip the others."""
    created = []
    for name, sql in lineage_macro_statements().items():
        try:
            conn.execute(sql)
            created.append(name)
        except duckdb.Error as error:  # a table or column it reads was not published
            say(f"  makro report.{name} pominięte: czyta tabelę lub kolumnę, której kopia nie zawiera (dane na "
                f"poziomie osoby, schemas/publish.yaml) — dostępne w hurtowni ({str(error).splitlines()[0]})")
    return created


