"""`cus sql`: ad hoc SQL on the published read-only copy (never on the live warehouse).

    cus sql "SELECT …"        one query, printed as a table (or --csv)
    cus sql                   interactive shell: statements end with `;`, `\\d` lists tables,
                              `\\d <table>` shows its columns, `\\q` quits; works without a TTY
                              too (`cus sql < query.sql`, `echo "select 1;" | cus sql`)

The connection is read-only with file access disabled (no ATTACH, COPY or read_csv), so a query
can neither change the copy nor reach the warehouse or the file system.
"""

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

from assets.publish import PublishError, connect_published, read_manifest
from reports.formatting import count, row_count

PROMPT = "cus> "
CONTINUE = "...> "
HELP = (
    "Polecenia: zapytanie SQL zakończone ';' | \\d — lista tabel | \\d <schemat> — tabele schematu | "
    "\\d <tabela> — kolumny tabeli | \\? — pomoc | \\q — wyjście (także .tables, .schema <tabela>)"
)


class SqlError(RuntimeError):
    """A query problem, reported as one line."""


# What the common DuckDB errors mean for an analyst of the read-only copy (the DuckDB text follows).
EXPLAINED = (
    ("read-only mode", "kopia jest tylko do odczytu — zapytania nie zmieniają danych"),
    ("file system operations are disabled", "dostęp do plików jest wyłączony (COPY, read_csv, ATTACH)"),
    ("Parser Error", "błąd składni SQL"),
    ("Catalog Error", "nie ma takiej tabeli, kolumny lub funkcji (\\d pokazuje tabele)"),
    ("Binder Error", "nieznana kolumna lub niezgodne typy"),
    ("Conversion Error", "nie da się przekształcić wartości do typu"),
)


# DuckDB's hints kept after the first line of an error: a similar name, the candidate columns.
HINTS = ("Did you mean", "Candidate bindings")
MISSING_TABLE = re.compile(r'Table with name "?([A-Za-z_][A-Za-z0-9_.]*)"? does not exist')
# Share columns (0–1) shown as percentages: DECIMAL(9,4) is the warehouse type of every share,
# rate, limit and threshold (docs/sql.md); computed columns named like a share count too.
SHARE_NAME = re.compile(r"(^|_)(share|pct|udzial)$")


def one_line(error: Exception) -> str:
    """The first line of a DuckDB error, with its 'Did you mean …' / 'Candidate bindings' hint."""
    text = str(error).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    hint = next((line for line in lines[1:] if line.startswith(HINTS)), None)
    return f"{lines[0]} {hint}" if hint else lines[0]


def withheld_explanation(conn: duckdb.DuckDBPyConnection, error: Exception) -> str | None:
    """For a table left out of the published copy (person grain under RODO): what and why, from
    meta.withheld_tables written by the publishing step; None for any other missing table."""
    found = MISSING_TABLE.search(str(error))
    if not found:
        return None
    schema, _, table = found.group(1).rpartition(".")
    try:
        rows = conn.execute("SELECT schema_name, table_name, reason FROM meta.withheld_tables "
                            "WHERE table_name = ? AND (? = '' OR schema_name = ?) ORDER BY ALL",
                            [table, schema, schema]).fetchall()
    except duckdb.Error:  # a copy without the meta schema
        return None
    if not rows:
        return None
    withheld_schema, withheld_table, reason = rows[0]
    return (f"Zapytanie nie powiodło się: tabela {withheld_schema}.{withheld_table} nie jest publikowana w kopii do "
            f"zapytań (RODO) — {reason}. Pominięte tabele i powody: SELECT * FROM meta.withheld_tables.")


def explain(error: Exception, conn: duckdb.DuckDBPyConnection | None = None) -> str:
    """One Polish line: what went wrong, then DuckDB's own message."""
    withheld = withheld_explanation(conn, error) if conn is not None else None
    if withheld:
        return withheld
    detail = one_line(error)
    meaning = next((text for marker, text in EXPLAINED if marker in str(error)), None)
    return f"Zapytanie nie powiodło się: {meaning} — {detail}" if meaning else f"Zapytanie nie powiodło się: {detail}"


def run_query(conn: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame | None:
    """The result of the (last) statement as a frame; None for statements without a result."""
    if not sql or not sql.strip().rstrip(";").strip():
        raise SqlError("Puste zapytanie: podaj instrukcję SQL, np. cus sql \"SELECT * FROM meta.tables\".")
    try:
        relation = conn.sql(sql)
        return relation.pl() if relation is not None else None
    except duckdb.Error as error:
        raise SqlError(explain(error, conn)) from error


def share_columns(frame: pl.DataFrame) -> list[str]:
    """Columns holding shares 0–1 (see SHARE_NAME)."""
    out = []
    for name, dtype in frame.schema.items():
        is_share_type = isinstance(dtype, pl.Decimal) and (dtype.precision, dtype.scale) == (9, 4)
        is_share_name = dtype.is_numeric() and SHARE_NAME.search(name.lower()) is not None
        if is_share_type or is_share_name:
            out.append(name)
    return out


def with_percentages(frame: pl.DataFrame) -> pl.DataFrame:
    """Shares as Polish percentages with two decimals (0.3512 -> `35,12%`), for the screen only."""
    from reports.formatting import percent

    shares = share_columns(frame)
    if not shares:
        return frame
    return frame.with_columns(pl.col(name).map_elements(lambda v: percent(v, decimals=2), return_dtype=pl.Utf8)
                              for name in shares)


def format_frame(frame: pl.DataFrame, max_rows: int = 50, csv: bool = False) -> str:
    """The result as a table (shares as %) or, with `csv`, as machine-readable CSV (shares as 0–1)."""
    if csv:
        return frame.write_csv().rstrip("\n")
    frame = with_percentages(frame)
    with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200,
                   tbl_hide_dataframe_shape=True, thousands_separator=" ", decimal_separator=","):
        text = str(frame)
    rows = frame.height
    shown = f", pokazano {max_rows}" if rows > max_rows else ""
    return f"{text}\n({row_count(rows)}{shown})"


def list_tables(conn: duckdb.DuckDBPyConnection, schema: str = "") -> pl.DataFrame:
    return conn.sql(
        "SELECT schema_name || '.' || table_name AS tabela, estimated_size AS wiersze, comment AS opis "
        "FROM duckdb_tables() WHERE database_name = current_database() AND ($schema = '' OR schema_name = $schema) "
        "ORDER BY schema_name = 'meta', schema_name, table_name",
        params={"schema": schema},
    ).pl()


def _is_schema(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return conn.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                    "AND schema_name = $name", params={"name": name}).fetchone()[0] > 0


def describe_table(conn: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    schema, _, table = name.rpartition(".")
    frame = conn.sql(
        "SELECT column_name AS kolumna, data_type AS typ, comment AS opis FROM duckdb_columns() "
        "WHERE database_name = current_database() AND table_name = $table "
        "AND ($schema = '' OR schema_name = $schema) ORDER BY schema_name, column_index",
        params={"table": table, "schema": schema},
    ).pl()
    if frame.is_empty():
        withheld = withheld_explanation(conn, Exception(f"Table with name {name} does not exist"))
        if withheld:
            raise SqlError(withheld.replace("Zapytanie nie powiodło się: t", "T", 1))
        raise SqlError(f"Nie ma tabeli {name!r} (\\d pokazuje listę tabel).")
    return frame


def banner(published_dir: Path) -> str:
    manifest = read_manifest(published_dir)
    when = manifest.get("published_at", "?")
    return (f"Kopia do odczytu z {when} ({count(len(manifest.get('tables', {})), 'tabela', 'tabele', 'tabel')}) — {published_dir}/current.duckdb\n"
            f"{HELP}\nTabele, kolumny i przykładowe zapytania: docs/sql.md")


# Habits from the duckdb CLI: `.tables`, `.schema [table]`, `.help` do what `\d` and `\?` do.
DOT_COMMANDS = {".tables": "\\d", ".schema": "\\d", ".help": "\\?"}


def is_command(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("\\") or stripped.split(" ", 1)[0].rstrip(";") in DOT_COMMANDS


def run_command(conn, text: str) -> pl.DataFrame | str:
    """A backslash (or duckdb-CLI dot) command: \\d, \\d <schema|table>, \\?. Raises SqlError."""
    command, _, arg = text.strip().rstrip(";").partition(" ")
    command = DOT_COMMANDS.get(command, command)
    arg = arg.strip()
    if command == "\\d":
        if not arg:
            return list_tables(conn)
        if "." not in arg and _is_schema(conn, arg):
            return list_tables(conn, arg)
        return describe_table(conn, arg)
    if command in ("\\?", "\\h", "\\help"):
        return HELP
    raise SqlError(f"Nieznane polecenie {command} — {HELP}")


def _print(result: pl.DataFrame | str | None, out: IO[str], max_rows: int, csv: bool) -> None:
    if result is None:
        print("OK", file=out)
    elif isinstance(result, str):
        print(result, file=out)
    else:
        print(format_frame(result, max_rows=max_rows, csv=csv), file=out)


def execute_text(conn, text: str, out: IO[str], max_rows: int, csv: bool) -> bool:
    """Run one statement or command; print the result. False on an error."""
    stripped = text.strip()
    try:
        if is_command(stripped):
            _print(run_command(conn, stripped), out, 1000, csv)
        else:
            _print(run_query(conn, stripped), out, max_rows, csv)
        return True
    except SqlError as error:
        print(str(error), file=out if out is not sys.stdout else sys.stderr)
        return False


def _lines(stdin: IO[str], interactive: bool, prompt, out: IO[str]) -> Iterator[str]:
    """Input lines; on a terminal with line editing and history (readline) and a prompt."""
    if not interactive:
        yield from stdin
        return
    if stdin is sys.stdin and out is sys.stdout:
        try:
            import readline  # noqa: F401  (arrow keys and history for input())
        except ImportError:
            pass
        while True:
            try:
                yield input(prompt())
            except EOFError:
                return
            except KeyboardInterrupt:  # Ctrl+C drops the statement being typed, Ctrl+D quits
                out.write("\n")
                yield "\\reset"
    else:
        while True:
            out.write(prompt())
            out.flush()
            line = stdin.readline()
            if not line:
                return
            yield line


def shell(conn, stdin: IO[str], out: IO[str], interactive: bool, max_rows: int = 50, csv: bool = False) -> int:
    """Read statements until `;` (or a backslash command on its own line); `\\q` or EOF quits.
    Returns 0, or 1 when a statement failed and input is not a terminal (scripts notice)."""
    buffer: list[str] = []
    failed = False
    for line in _lines(stdin, interactive, lambda: CONTINUE if buffer else PROMPT, out):  # noqa: B023 (reads the live buffer)
        text = line.rstrip("\n")
        if text == "\\reset":
            buffer = []
            continue
        if not buffer and text.strip() in ("\\q", "\\quit", "exit", "quit"):
            break
        if not buffer and is_command(text):
            failed |= not execute_text(conn, text, out, max_rows, csv)
        elif text.strip() or buffer:
            buffer.append(text)
            if text.rstrip().endswith(";"):
                failed |= not execute_text(conn, "\n".join(buffer), out, max_rows, csv)
                buffer = []
    else:
        if buffer and "\n".join(buffer).strip():
            failed |= not execute_text(conn, "\n".join(buffer), out, max_rows, csv)
    if interactive:
        out.write("\n")
    return 1 if failed and not interactive else 0


def main(query: str | None, published_dir: Path, max_rows: int = 50, csv: bool = False,
         stdin: IO[str] | None = None, out: IO[str] | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        conn = connect_published(published_dir)
    except PublishError as error:
        raise SqlError(str(error)) from error
    try:
        if query is not None and query.strip() != "-":
            if is_command(query):
                _print(run_command(conn, query), out, 1000, csv)
            else:
                frame = run_query(conn, query)
                if frame is not None:
                    print(format_frame(frame, max_rows=max_rows, csv=csv), file=out)
            return 0
        interactive = bool(getattr(stdin, "isatty", lambda: False)())
        if interactive:
            print(banner(Path(published_dir)), file=out)
        return shell(conn, stdin, out, interactive, max_rows=max_rows, csv=csv)
    finally:
        conn.close()
