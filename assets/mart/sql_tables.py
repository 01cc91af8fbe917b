"""Shared machinery of the mart and report layers: SQL files beside the assets, run set-based.

Every table is one `.sql` file (CTE style: import → logic → final) that does
`CREATE OR REPLACE TABLE <layer>.<table> AS ...`. Its description, columns and checks are data in
schemas/warehouse/<layer>.yaml (core/models.py), which also gives the `COMMENT ON` statements run
after the file; the tables it reads, and so the asset dependencies and the build order, come from
the SQL itself (assets/mart/sql_graph.py). A build runs in one transaction: the source views and
macros are prepared, the file runs, and either the whole new table is committed or the old one stays.
"""


from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import yaml

from assets.mart.sql_graph import ModelGraphError, build_order, models_in, resolve_dependencies
from assets.preview import markdown_preview
from assets.staging.typed import ensure_staging_tables
from core.contract import load_contract
from core.models import Check, TableDoc, comment_statements, layer_tables, table_doc, validation_columns
from core.paths import SCHEMAS_DIR
from core.registry import Unit, load_units
from core.resources import WarehouseResource
from core.warehouse import WAREHOUSE_POOL, identifier, sql_literal, table_exists, transaction
from reports.formatting import row_count

MART_DIR = Path(__file__).parent
MART_SQL_DIR = MART_DIR / "sql"
REPORT_SQL_DIR = MART_DIR.parent / "report" / "sql"
MONEY_MACROS_SQL = MART_DIR / "money_macros.sql"
INDICATORS_PATH = SCHEMAS_DIR / "indicators.yaml"
FLAGS_PATH = SCHEMAS_DIR / "flags.yaml"
MODEL_FOLDERS = {"mart": MART_SQL_DIR, "report": REPORT_SQL_DIR}


def prepared_sources() -> dict[str, tuple[str, ...]]:
    """Relations `prepare` makes before every build → the upstream tables (asset keys) behind them.

    The staging validation tables are written by every staging asset; when absent (fresh
    warehouse) the `src_*` views are empty relations with the columns of schemas/warehouse/staging.yaml."""
    every_dataset = tuple(f"staging.{name}" for name in load_contract())
    return {"registry_units": (), "catalogue_rows": (), "flag_rules": (), "contract_delivery_modes": (),
            "contract_every_quarter": (),
            "src_validation_summary": every_dataset, "src_quarantine": every_dataset,
            "staging.validation_summary": every_dataset, "staging.quarantine": every_dataset}


@dataclass(frozen=True)
class SqlTable:
    """One warehouse table built by `<folder>/<name>.sql`."""

    layer: str  # "mart" | "report"
    name: str
    description: str
    staging: tuple[str, ...] = ()  # staging datasets read (asset deps)
    upstream: tuple[str, ...] = ()  # "mart/<table>" or "report/<table>" read (asset deps)
    folder: Path = field(default=MART_SQL_DIR)
    checks: tuple[Check, ...] = ()
    doc: TableDoc | None = None  # columns and their descriptions (COMMENT ON)

    @property
    def sql_path(self) -> Path:
        return self.folder / f"{self.name}.sql"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.layer, self.name])

    def deps(self) -> list[dg.AssetKey]:
        keys = [dg.AssetKey(["staging", d]) for d in self.staging]
        keys += [dg.AssetKey(u.split("/")) for u in self.upstream]
        return keys


def model_dependencies() -> dict[str, tuple[str, ...]]:
    """{"mart.fact_delivery": ("mart.dim_service", "staging.deliveries"), ...} read from every model's SQL."""
    models = [m for folder in MODEL_FOLDERS.values() for m in models_in(folder)]
    return resolve_dependencies(models, set(load_contract()), prepared_sources())


@cache
def load_sql_tables(layer: str) -> tuple[SqlTable, ...]:
    """The layer's tables in build order: SQL files + schemas/warehouse/<layer>.yaml, deps from the SQL."""
    dependencies = model_dependencies()
    described = [t.name for t in layer_tables(layer)]
    in_layer = {name: ups for name, ups in dependencies.items() if name.startswith(f"{layer}.")}
    undocumented = sorted(set(in_layer) - {f"{layer}.{n}" for n in described})
    if undocumented:
        raise ModelGraphError(f"schemas/warehouse/{layer}.yaml: brak opisu tabel {', '.join(undocumented)} — "
                              "dodaj opis, ziarno i kolumny każdej tabeli budowanej przez plik .sql.")
    orphans = sorted(f"{layer}.{n}" for n in described if f"{layer}.{n}" not in in_layer)
    if orphans:
        raise ModelGraphError(f"schemas/warehouse/{layer}.yaml opisuje tabele bez pliku SQL: {', '.join(orphans)} "
                              f"— dodaj {MODEL_FOLDERS[layer]}/<tabela>.sql albo usuń opis.")
    tables = []
    for qualified in build_order(in_layer, preferred=[f"{layer}.{n}" for n in described]):
        name = qualified.split(".", 1)[1]
        doc = table_doc(layer, name)
        ups = in_layer[qualified]
        tables.append(SqlTable(
            layer, name, doc.description,
            staging=tuple(u.split(".", 1)[1] for u in ups if u.startswith("staging.")),
            upstream=tuple(u.replace(".", "/", 1) for u in ups if not u.startswith("staging.")),
            folder=MODEL_FOLDERS[layer], checks=doc.checks, doc=doc))
    return tuple(tables)


def registry_units() -> tuple[Unit, ...]:
    """The unit registry, read at run time (CUS_REGISTRY or config/units.yaml)."""
    return load_units()


def units_frame(units: tuple[Unit, ...] | list[Unit]) -> pl.DataFrame:
    """Registry rows as text (exact decimals are cast in SQL, never through float)."""
    names = list(Unit.__dataclass_fields__)
    return pl.DataFrame(
        {name: [None if getattr(u, name) is None else str(getattr(u, name)) for u in units] for name in names},
        schema={name: pl.Utf8 for name in names},
    )


def load_catalogue(path: Path = INDICATORS_PATH) -> list[dict]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["indicators"]


def catalogue_frame(path: Path = INDICATORS_PATH) -> pl.DataFrame:
    fields = ["code", "name", "kind", "measure_unit", "definition", "formula", "participant_flag", "count_quarter",
              "by_sex", "age_group", "sensitive", "target", "sort_order"]
    rows = load_catalogue(path)
    return pl.DataFrame({f: [None if r.get(f) is None else str(r.get(f)) for r in rows] for f in fields},
                        schema={f: pl.Utf8 for f in fields})


def delivery_modes_frame() -> pl.DataFrame:
    """Modes of delivery of the contract (schemas/contract.yaml): mode, label, commissioned."""
    modes = load_contract()["services"].column("delivery_mode").values
    return pl.DataFrame({"mode": [m.code for m in modes], "label": [m.label for m in modes],
                         "commissioned": [m.commissioned for m in modes]})


def every_quarter_frame() -> pl.DataFrame:
    """Quarterly datasets every unit sends for every quarter (schemas/contract.yaml `every_quarter`):
    dataset, position (contract order)."""
    names = [d.name for d in load_contract().values() if d.every_quarter]
    return pl.DataFrame({"dataset": names, "position": list(range(1, len(names) + 1))},
                        schema={"dataset": pl.Utf8, "position": pl.Int64})


def dataset_label_macro() -> str:
    """`report.dataset_label(d)`: the contract's short dataset labels as a scalar macro (a pure CASE,
    so the published copy can recreate it). Labels come from schemas/contract.yaml, never from data."""
    whens = " ".join(f"WHEN {sql_literal(d.name)} THEN {sql_literal(d.label)}" for d in load_contract().values())
    return f"CREATE OR REPLACE MACRO report.dataset_label(d) AS CASE d {whens} ELSE d END"


def load_flag_rules(path: Path = FLAGS_PATH) -> list[dict]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["rules"]


def flag_rules_frame(path: Path = FLAGS_PATH) -> pl.DataFrame:
    rules = load_flag_rules(path)
    return pl.DataFrame({
        "code": [r["code"] for r in rules],
        "severity": [r["severity"] for r in rules],
        "area": [r["area"] for r in rules],
        "enabled": [bool(r.get("enabled", True)) for r in rules],
        "param": [None if r.get("param") is None else str(r["param"]) for r in rules],
        "title": [r.get("title") for r in rules],
    })


def _source_view(conn: duckdb.DuckDBPyConnection, view: str, table: str, columns: list[tuple[str, str]]) -> None:
    if table_exists(conn, "staging", table):
        present = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'staging' AND table_name = ?",
            [table]).fetchall()}
        select = ", ".join(f"CAST({identifier(c)} AS {t}) AS {c}" if c in present else f"CAST(NULL AS {t}) AS {c}"
                           for c, t in columns)
        conn.execute(f"CREATE OR REPLACE TEMP VIEW {identifier(view)} AS SELECT {select} FROM staging.{identifier(table)}")
    else:
        select = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns)
        conn.execute(f"CREATE OR REPLACE TEMP VIEW {identifier(view)} AS SELECT {select} WHERE false")


def prepare(conn: duckdb.DuckDBPyConnection, units: tuple[Unit, ...] | list[Unit] | None = None,
            layer: str = "mart") -> None:
    """Schemas, staging tables (empty if not yet loaded), raw.file_versions, macros, source frames."""
    from assets.raw.ingest import FILE_VERSIONS_SQL
    from core.warehouse import ensure_layers, run_sql_file

    ensure_layers(conn)
    ensure_staging_tables(conn, list(load_contract().values()))
    run_sql_file(conn, FILE_VERSIONS_SQL)
    _source_view(conn, "src_validation_summary", "validation_summary", validation_columns("validation_summary"))
    _source_view(conn, "src_quarantine", "quarantine", validation_columns("quarantine"))
    conn.execute(MONEY_MACROS_SQL.read_text(encoding="utf-8"))
    conn.register("registry_units", units_frame(units if units is not None else registry_units()))
    conn.register("catalogue_rows", catalogue_frame())
    conn.register("flag_rules", flag_rules_frame())
    conn.register("contract_delivery_modes", delivery_modes_frame())
    conn.register("contract_every_quarter", every_quarter_frame())
    if layer == "report":
        prepare_report_macros(conn)


REPORT_MACROS_SQL = REPORT_SQL_DIR / "report_macros.sql"
LINEAGE_MACROS_SQL = REPORT_SQL_DIR / "lineage_macros.sql"
LINEAGE_TABLES = ("fact_expense", "fact_delivery", "fact_tranche", "person_count", "dim_participant", "budget_line")


def prepare_report_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Formatting macros; lineage table macros once the mart tables they read exist."""
    conn.execute(REPORT_MACROS_SQL.read_text(encoding="utf-8"))
    conn.execute(dataset_label_macro())
    if all(table_exists(conn, "mart", t) for t in LINEAGE_TABLES):
        conn.execute(LINEAGE_MACROS_SQL.read_text(encoding="utf-8"))


def run_table_sql(conn: duckdb.DuckDBPyConnection, table: SqlTable) -> int:
    conn.execute(table.sql_path.read_text(encoding="utf-8"))
    if table.doc is not None:
        present = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [table.layer, table.name]).fetchall()}
        conn.execute(comment_statements(table.doc, present))
    return conn.execute(f"SELECT count(*) FROM {identifier(table.layer)}.{identifier(table.name)}").fetchone()[0]


def build_table(conn: duckdb.DuckDBPyConnection, table: SqlTable, units=None) -> int:
    """Rebuild one table whole in one transaction; returns its row count."""
    with transaction(conn):
        return rebuild_in_transaction(conn, [table], units)[f"{table.layer}.{table.name}"]


def rebuild_in_transaction(conn: duckdb.DuckDBPyConnection, tables: list[SqlTable], units=None) -> dict[str, int]:
    """Rebuild tables whole (in the given, dependency-respecting order) inside the caller's transaction;
    each records what it was built from (assets/mart/incremental.py)."""
    from assets.mart.incremental import build  # it builds on this module

    return build(conn, tables, units if units is not None else registry_units(), partial=False)[0]


def build_tables(conn: duckdb.DuckDBPyConnection, tables: list[SqlTable], units=None) -> dict[str, int]:
    """Rebuild several tables whole (in the given, dependency-respecting order) in one transaction."""
    with transaction(conn):
        return rebuild_in_transaction(conn, tables, units)


def _preview(conn: duckdb.DuckDBPyConnection, table: SqlTable) -> str:
    """Row counts per unit: a preview that can never show personal data."""
    target = f"{identifier(table.layer)}.{identifier(table.name)}"
    columns = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [table.layer, table.name]).fetchall()}
    if "unit" not in columns:
        return ""
    rows = conn.execute(f"SELECT unit, count(*) FROM {target} GROUP BY unit ORDER BY unit").fetchall()
    return "| jednostka | wiersze |\n|---|---:|\n" + "\n".join(f"| {u} | {n} |" for u, n in rows)


def run_checks(conn: duckdb.DuckDBPyConnection, table: SqlTable) -> list[dg.AssetCheckResult]:
    results = []
    for check in table.checks:
        offending = conn.execute(f"SELECT count(*) FROM ({check.sql})").fetchone()[0]
        sample = conn.execute(f"SELECT * FROM ({check.sql}) LIMIT 5").fetchall() if offending else []
        results.append(dg.AssetCheckResult(
            check_name=check.name, passed=offending == 0,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={"wiersze niezgodne": offending, "przykłady": dg.MetadataValue.text(repr(sample)[:500])}))
    return results


def asset_description(table: SqlTable) -> str:
    """What the coordinator reads in the UI: the table's description and grain (schemas/warehouse/)."""
    grain = f" Jeden wiersz: {table.doc.grain}." if table.doc is not None else ""
    return f"{table.description}{grain}"


def build_sql_asset(table: SqlTable, tags: dict | None = None) -> dg.AssetsDefinition:
    @dg.asset(
        name=table.name,
        key_prefix=table.layer,
        group_name=table.layer,
        pool=WAREHOUSE_POOL,
        deps=table.deps(),
        kinds={"duckdb", "sql"},
        description=asset_description(table),
        tags={"layer": table.layer, **(tags or {})},
        check_specs=[dg.AssetCheckSpec(c.name, asset=table.key, description=c.description, blocking=c.blocking)
                     for c in table.checks],
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            rows = build_table(conn, table)
            preview = _preview(conn, table)
            rows_preview = markdown_preview(conn, table.layer, table.name)
            checks = run_checks(conn, table)
        context.log.info(f"{table.layer}.{table.name}: {row_count(rows)}")
        metadata = {"dagster/row_count": rows, "sql": str(table.sql_path.relative_to(MART_DIR.parent.parent))}
        if preview:
            metadata["wiersze wg jednostek"] = dg.MetadataValue.md(preview)
        if rows_preview:
            metadata["podgląd"] = dg.MetadataValue.md(rows_preview)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _asset
