"""SQL models described once (schemas/warehouse/*.yaml) with dependencies read from the SQL.

- the asset graph of the code location is pinned in tests/asset_graph.yaml (asset → upstream);
- the graph reader fails loudly on a cycle, an unknown table and a mart model reading report;
- every column the SQL builds is described, the warehouse comments are the YAML texts;
- the staging validation tables have one definition (DDL, polars schemas, the mart's fallback);
- docs/warehouse.md's generated tables section is current;
- a new person-based indicator needs only its catalogue entry (schemas/indicators.yaml).

CUS_WRITE_GRAPH=1 rewrites tests/asset_graph.yaml from the live Definitions.
"""

import os
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from mart_fixtures import D, rows, warehouse

from assets.mart.mart_assets import MART_TABLES
from assets.mart.sql_graph import ModelGraphError, build_order, models_in, resolve_dependencies
from assets.report.report_tables import REPORT_TABLES
from core.models import ModelsError, column_descriptions, layer_tables, table_descriptions

SNAPSHOT = Path(__file__).with_name("asset_graph.yaml")
UPDATE = "CUS_WRITE_GRAPH=1 .venv/bin/pytest tests/test_sql_models.py -k asset_graph"


@pytest.fixture(scope="module")
def wh():
    conn = warehouse()
    yield conn
    conn.close()


# --------------------------------------------------------------------------------------------
# the asset graph


def live_graph() -> dict[str, list[str]]:
    from pipelines.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    return {key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
            for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())}


def test_asset_graph_matches_the_snapshot():
    live = live_graph()
    if os.environ.get("CUS_WRITE_GRAPH"):
        SNAPSHOT.write_text("# asset key -> upstream asset keys (tests/test_sql_models.py; regenerate: "
                            f"{UPDATE})\n" + yaml.safe_dump(live, sort_keys=True, allow_unicode=True), encoding="utf-8")
    pinned = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    changed = {k: {"pinned": pinned.get(k), "live": live.get(k)} for k in sorted(set(pinned) | set(live))
               if pinned.get(k) != live.get(k)}
    assert not changed, (f"the asset graph differs from {SNAPSHOT.name}: {changed}\nIf the change is intended "
                         f"(a new table, a new read in a .sql file), update the snapshot: {UPDATE}")


def test_dependencies_are_read_from_the_sql():
    tables = {f"{t.layer}.{t.name}": t for t in MART_TABLES + REPORT_TABLES}
    assert {k.to_user_string() for k in tables["mart.fact_delivery"].deps()} == {"staging/deliveries",
                                                                                 "mart/dim_service"}
    assert {k.to_user_string() for k in tables["report.advances"].deps()} == {"report/settlement", "mart/fact_tranche",
                                                                              "mart/dim_unit"}
    # report.data_quality reads src_validation_summary: the table every staging asset writes
    # (the optional opis_postepu — dataset narrative — too)
    assert set(tables["report.data_quality"].staging) == {
        "participants", "deliveries", "expenses", "tranches", "budget", "spending_plan", "services",
        "indicator_targets", "milestones", "narrative"}
    assert tables["mart.dim_unit"].deps() == []  # registry_units: prepared from config/units.yaml


def test_build_order_puts_every_table_after_what_it_reads():
    for layer_tables_ in (MART_TABLES, REPORT_TABLES):
        seen = set()
        for table in layer_tables_:
            same_layer = {u for u in table.upstream if u.startswith(f"{table.layer}/")}
            assert same_layer <= seen, (table.name, same_layer - seen)
            seen.add(f"{table.layer}/{table.name}")
    names = [t.name for t in REPORT_TABLES]
    assert names.index("settlement") < names.index("commissioned") < names.index("indicators") < names.index("flags")


def write_models(folder: Path, sql: dict[str, str]) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sql.items():
        (folder / f"{name}.sql").write_text(text, encoding="utf-8")
    return models_in(folder)


def test_a_cycle_between_models_fails_naming_the_tables(tmp_path):
    models = write_models(tmp_path / "mart", {
        "a": "CREATE OR REPLACE TABLE mart.a AS WITH b_rows AS (SELECT * FROM mart.b) SELECT * FROM b_rows;",
        "b": "CREATE OR REPLACE TABLE mart.b AS SELECT * FROM mart.a;",
        "c": "CREATE OR REPLACE TABLE mart.c AS SELECT * FROM staging.expenses;",
    })
    deps = resolve_dependencies(models, {"expenses"}, {})
    assert deps == {"mart.a": ("mart.b",), "mart.b": ("mart.a",), "mart.c": ("staging.expenses",)}
    with pytest.raises(ModelGraphError, match=r"cykl zależności.*mart\.a.*mart\.b"):
        build_order(deps)
    assert build_order({"mart.c": ("mart.d",), "mart.d": ()}, preferred=["mart.c", "mart.d"]) == ["mart.d", "mart.c"]


def test_an_unknown_table_or_a_read_from_a_higher_layer_fails_naming_the_file(tmp_path):
    models = write_models(tmp_path / "typo", {
        "x": "CREATE OR REPLACE TABLE mart.x AS WITH t AS (SELECT * FROM staging.expense) SELECT * FROM t;"})
    with pytest.raises(ModelGraphError, match=r"x\.sql: nieznana tabela 'staging\.expense'"):
        resolve_dependencies(models, {"expenses"}, {})
    models = write_models(tmp_path / "upward", {
        "y": "CREATE OR REPLACE TABLE mart.y AS SELECT * FROM report.z;",
        "z": "CREATE OR REPLACE TABLE report.z AS SELECT 1 AS one;"})
    with pytest.raises(ModelGraphError, match=r"y\.sql: tabela warstwy mart czyta report\.z"):
        resolve_dependencies(models, set(), {})
    with pytest.raises(ModelGraphError, match=r"w\.sql: plik musi tworzyć tabelę <mart\|report>\.w \(tworzy mart\.other\)"):
        write_models(tmp_path / "misnamed", {"w": "CREATE OR REPLACE TABLE mart.other AS SELECT 1 AS one;"})


# --------------------------------------------------------------------------------------------
# descriptions


def test_every_built_column_is_described_and_commented_with_the_yaml_text(wh):
    described = column_descriptions()
    for layer in ("mart", "report", "staging"):
        for table in layer_tables(layer):
            built = [r["column_name"] for r in rows(wh, "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                                        "AND table_name = ? ORDER BY column_index", [layer, table.name])]
            assert built, f"{layer}.{table.name} described but not built"
            assert sorted(built) == sorted(c.name for c in table.columns), (
                f"{layer}.{table.name}: columns of the SQL and of schemas/warehouse/{layer}.yaml differ: "
                f"not described {sorted(set(built) - {c.name for c in table.columns})}, "
                f"described but absent {sorted({c.name for c in table.columns} - set(built))}")
            comments = {r["column_name"]: r["comment"] for r in rows(
                wh, "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [layer, table.name])}
            assert comments == {c: described[(layer, table.name, c)] for c in built}
    assert rows(wh, "SELECT comment FROM duckdb_tables() WHERE schema_name = 'report' AND table_name = 'advances'"
                ) == [{"comment": table_descriptions()[("report", "advances")]}]


def test_column_descriptions_resolve_the_shared_meanings():
    described = column_descriptions()
    # a table's own text ...
    assert described[("mart", "dim_unit", "unit")] == "Klucz jednostki (ASCII), np. elblag."
    assert described[("staging", "quarantine", "row_number")] == \
        "Numer wiersza w pliku źródłowym (wiersz danych; NULL = cały plik)."
    # ... or the shared meaning of schemas/warehouse/columns.yaml (listed as ~)
    assert described[("report", "advances", "unit")] == "Klucz jednostki (ASCII), np. elblag — mart.dim_unit."
    assert described[("raw", "file_versions", "version_no")] == \
        "Numer wersji pliku (1 = pierwsza przesłana; kolejne = korekty)."
    assert ("mart", "dim_participant", "person_key") in described


@pytest.mark.parametrize("entry, message", [
    ({"description": "Opis tabeli testowej.", "grain": "wiersz", "columns": {"nowa_kolumna": None}},
     "nowa_kolumna ma ~"),
    ({"description": "**Pogrubiony** opis.", "grain": "wiersz", "columns": {"unit": None}}, "bez markdown"),
    ({"description": "Opis tabeli testowej.", "grain": "wiersz", "columns": {"unit": ""}}, "brak opisu"),
    ({"description": "Opis tabeli testowej.", "grain": "wiersz", "rebuild": "per_unit", "columns": {"code": "Kod."}},
     "per_unit wymaga kolumny unit"),
    ({"description": "Opis tabeli testowej.", "grain": "wiersz", "rebuild": "daily", "columns": {"unit": None}},
     "dozwolone: full, per_unit"),
])
def test_a_wrong_models_file_is_a_clear_error(tmp_path, entry, message):
    (tmp_path / "columns.yaml").write_text("columns:\n  unit: Klucz jednostki.\n", encoding="utf-8")
    (tmp_path / "mart.yaml").write_text(yaml.safe_dump({"tables": {"t": entry}}, allow_unicode=True),
                                        encoding="utf-8")
    with pytest.raises(ModelsError, match=message):
        layer_tables("mart", tmp_path)


def test_asset_descriptions_and_checks_come_from_the_yaml():
    from assets.mart.sql_tables import asset_description

    settlement = next(t for t in REPORT_TABLES if t.name == "settlement")
    assert asset_description(settlement).endswith(" Jeden wiersz: jednostka × kwartał.")
    assert [c.name for c in settlement.checks] == ["split_adds_up", "quarters_sum_to_cumulative", "settlement_unique"]
    fact_delivery = next(t for t in MART_TABLES if t.name == "fact_delivery")
    assert [(c.name, c.blocking) for c in fact_delivery.checks] == [("deliveries_have_value", False)]


def test_docs_tables_section_is_current():
    from pipelines.tools import warehouse_docs

    text = warehouse_docs.DOCS_PATH.read_text(encoding="utf-8")
    assert warehouse_docs.current_block(text) == warehouse_docs.render(), (
        f"docs/warehouse.md: the generated tables section is stale; run {warehouse_docs.REGENERATE}")
    assert "| `report.advances` | jednostka × kwartał |" in text
    assert "`mart.dim_service`, `mart.fact_delivery`, `mart.unit_quarter`" in text  # services_by_* reads


# --------------------------------------------------------------------------------------------
# the staging validation tables: one definition


def test_validation_tables_ddl_polars_schemas_and_mart_fallback_agree():
    from assets.mart.sql_tables import prepare
    from assets.staging.staging_assets import SUMMARY_SCHEMA, ensure_validation_tables
    from assets.staging.validate import QUARANTINE_SCHEMA

    conn = duckdb.connect()
    prepare(conn, units=[])  # fresh warehouse: the src_* views are empty relations with the columns
    fallback = rows(conn, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'src_quarantine' "
                          "ORDER BY column_index")
    ensure_validation_tables(conn)
    built = rows(conn, "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE schema_name = 'staging' "
                       "AND table_name = 'quarantine' ORDER BY column_index")
    assert [(r["column_name"], r["data_type"]) for r in built] == [
        ("unit", "VARCHAR"), ("quarter", "VARCHAR"), ("dataset", "VARCHAR"), ("source_file", "VARCHAR"),
        ("file_sha256", "VARCHAR"), ("row_number", "BIGINT"), ("column_name", "VARCHAR"), ("header", "VARCHAR"),
        ("rule", "VARCHAR"), ("severity", "VARCHAR"), ("message", "VARCHAR"), ("value", "VARCHAR"),
        ("checked_at", "TIMESTAMP")]
    assert [r["column_name"] for r in built if not r["is_nullable"]] == ["unit", "dataset", "rule", "severity",
                                                                          "message", "checked_at"]
    assert [(r["column_name"], r["data_type"]) for r in fallback] == [(r["column_name"], r["data_type"]) for r in built]
    assert QUARANTINE_SCHEMA["row_number"] == pl.Int64 and QUARANTINE_SCHEMA["checked_at"] == pl.Datetime("us")
    assert list(QUARANTINE_SCHEMA) == [r["column_name"] for r in built]
    assert list(SUMMARY_SCHEMA) == ["unit", "quarter", "dataset", "source_file", "file_sha256", "received", "accepted",
                                    "quarantined", "warnings", "checked_at"]
    # the polars frame the staging asset writes fits the table as created
    conn.register("summary_frame", pl.DataFrame([{"unit": "u", "quarter": None, "dataset": "budget",
                                                  "source_file": "f", "file_sha256": "h", "received": 3, "accepted": 2,
                                                  "quarantined": 1, "warnings": 0, "checked_at": None}],
                                                schema=SUMMARY_SCHEMA))
    with pytest.raises(duckdb.ConstraintException):  # checked_at NOT NULL, as defined once
        conn.execute("INSERT INTO staging.validation_summary SELECT * FROM summary_frame")
    assert conn.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'validation_summary' "
                        "AND column_name = 'quarantined'").fetchone()[0] == "Wiersze odrzucone (kwarantanna)."


# --------------------------------------------------------------------------------------------
# a new indicator: the catalogue only


def test_a_new_person_indicator_needs_only_its_catalogue_entry(tmp_path, monkeypatch):
    """PROD_OSOBY_BIERNE (persons inactive at entry) over an existing participant flag: no code, no
    SQL. testowo (tests/mart_fixtures.py): P3 (K, inactive, start 20.03.2021 → 2021Q1) and P6 (K,
    inactive, start 01.11.2021 → 2021Q4); P1, P2, P4, P5 are not inactive. No target in the
    agreement → target and % empty."""
    from assets.mart import sql_tables

    catalogue = yaml.safe_load(sql_tables.INDICATORS_PATH.read_text(encoding="utf-8"))
    catalogue["indicators"].append({
        "code": "PROD_OSOBY_BIERNE", "name": "Liczba osób biernych zawodowo objętych usługami", "kind": "produkt",
        "measure_unit": "osoby", "definition": "Uczestnicy bierni zawodowo w chwili przystąpienia.",
        "formula": "assets/mart/sql/person_count.sql :: is_inactive", "participant_flag": "is_inactive",
        "count_quarter": "entry", "by_sex": True, "sensitive": False, "target": "file", "sort_order": 95})
    changed = tmp_path / "indicators.yaml"
    changed.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    original = sql_tables.catalogue_frame
    monkeypatch.setattr(sql_tables, "catalogue_frame", lambda path=changed: original(path))
    conn = warehouse()
    try:
        got = rows(conn, "SELECT quarter, quarter_total, quarter_women, quarter_men, cumulative_total, "
                         "cumulative_women, cumulative_men, target_total, pct FROM report.indicators "
                         "WHERE unit = 'testowo' AND code = 'PROD_OSOBY_BIERNE' ORDER BY quarter")
        values = [(r["quarter"], *(int(r[k]) for k in ("quarter_total", "quarter_women", "quarter_men",
                                                        "cumulative_total", "cumulative_women", "cumulative_men")),
                   r["target_total"], r["pct"]) for r in got]
        assert values == [("2021Q1", 1, 1, 0, 1, 1, 0, None, None), ("2021Q2", 0, 0, 0, 1, 1, 0, None, None),
                          ("2021Q3", 0, 0, 0, 1, 1, 0, None, None), ("2021Q4", 1, 1, 0, 2, 2, 0, None, None)]
        assert conn.execute("SELECT name FROM mart.indicator_catalogue WHERE code = 'PROD_OSOBY_BIERNE'"
                            ).fetchone()[0] == "Liczba osób biernych zawodowo objętych usługami"
        # the indicators already there keep their values (PROD_OSOBY_USLUGI, tests/test_indicators.py)
        assert conn.execute("SELECT cumulative_total FROM report.indicators WHERE unit = 'testowo' "
                            "AND quarter = '2021Q4' AND code = 'PROD_OSOBY_USLUGI'").fetchone()[0] == D("5")
    finally:
        conn.close()


def test_model_reads_are_cached_by_content(tmp_path, monkeypatch):
    from assets.mart import sql_graph

    monkeypatch.setattr(sql_graph, "READS_CACHE", tmp_path / "reads.json")
    first = write_models(tmp_path / "one", {"m": "CREATE OR REPLACE TABLE mart.m AS SELECT * FROM mart.dim_unit;"})
    assert [(m.name, m.reads) for m in first] == [("m", ("mart.dim_unit",))]

    def no_parse(path, text):
        raise AssertionError("parsed again")

    monkeypatch.setattr(sql_graph, "_parse", no_parse)
    same = write_models(tmp_path / "two", {"m": "CREATE OR REPLACE TABLE mart.m AS SELECT * FROM mart.dim_unit;"})
    assert [(m.name, m.reads) for m in same] == [("m", ("mart.dim_unit",))]  # same content: from the cache
    with pytest.raises(AssertionError, match="parsed again"):  # changed content: parsed
        write_models(tmp_path / "three", {"m": "CREATE OR REPLACE TABLE mart.m AS SELECT * FROM mart.dim_quarter;"})


def test_the_raw_layers_bookkeeping_tables_are_described_column_for_column():
    """schemas/warehouse/raw.yaml (docs/warehouse.md) lists exactly the columns the DDL creates."""
    from assets.mart.incremental import BUILD_STATE_SQL
    from assets.raw.ingest import FILE_VERSIONS_SQL

    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA raw")
        for path in (FILE_VERSIONS_SQL, BUILD_STATE_SQL):
            conn.execute(path.read_text(encoding="utf-8"))
        for table in layer_tables("raw"):
            columns = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
                "ORDER BY ordinal_position", [table.name]).fetchall()]
            assert columns == [c.name for c in table.columns], table.name
