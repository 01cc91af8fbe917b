"""A tiny warehouse built by the real assets, published, and scanned for personal data.

`build_tiny_warehouse` is shared by the SQL, docs and CLI tests: two units (Elbląg, Srokowo), one
reporting quarter (2021Q3) each plus their agreement files, small enough to check by hand:

| unit    | expenses (eligible)                                   | tranches      | participants |
|---------|-------------------------------------------------------|---------------|--------------|
| elblag  | task 1: 1 000,00; task 2: 2 000,00 (commissioned) + 500,00 | 10 000,00 | 2 K + 1 M |
| srokowo | task 1: 400,00; task 2: 1 600,00 (commissioned)        | 2 000,00      | 1 K          |
"""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from landing_fixtures import EXPENSE_HEADERS, PARTICIPANT_HEADERS, participant_row, write_csv

from assets.publish import connect_published, publish
from core.pesel import make_pesel
from core.resources import LandingResource, PseudonymizerResource, ReportsResource, WarehouseResource
from pipelines.definitions import build_definitions

QUARTER = "2021Q3"
PESELS = {
    "ELB/1": make_pesel(date(1961, 4, 12), sex="K", serial=101),
    "ELB/2": make_pesel(date(2004, 9, 30), sex="K", serial=202),
    "ELB/3": make_pesel(date(1950, 1, 5), sex="M", serial=303),
    "SRO/1": make_pesel(date(1975, 6, 1), sex="K", serial=404),
}
NAMES = {"ELB/1": ("Halina", "Zawadzka"), "ELB/2": ("Oliwia", "Grabowska"), "ELB/3": ("Tadeusz", "Pietrzak"),
         "SRO/1": ("Bożena", "Wróblewska")}


def _expense(doc, task, category, item, amount, commissioned="N", issued="2021-08-10"):
    return [doc, "5260001246", issued, issued, task, category, item, amount, amount, amount, "0.00", "N", "N",
            commissioned]


def write_tiny_landing(landing: Path) -> None:
    """Quarter and agreement files of two units (see the module docstring)."""
    units = {
        "elblag": {
            "participants": ["ELB/1", "ELB/2", "ELB/3"],
            "expenses": [
                _expense("FV/1/2021", 1, "1.1", "Wynagrodzenie koordynatora Halina Zawadzka", "1000.00"),
                _expense("FV/2/2021", 2, "3.1", "Usługa opiekuńcza (PES)", "2000.00", "T"),
                _expense("FV/3/2021", 2, "3.1", "Catering", "500.00"),
                _expense("FV/4/2021", 2, "3.1", "Błędna data", "10.00", issued="31.02.2021"),
            ],
            "tranches": [[1, "2021-07-05", "10000.00", "8428.00", "1572.00"]],
            "deliveries": [["ELB/1", "S01", "2021-08-02", "2", "", "IPUS/1"], ["ELB/2", "S01", "2021-08-03", "1", "", ""],
                           ["ELB/3", "S02", "2021-09-01", "3", "", ""], ["", "S03", "2021-09-15", "1", "250.00", ""]],
        },
        "srokowo": {
            "participants": ["SRO/1"],
            "expenses": [
                _expense("1/2021", 1, "1.1", "Diagnoza potrzeb", "400.00"),
                _expense("2/2021", 2, "3.1", "Asystent osobisty (NGO)", "1600.00", "T"),
            ],
            "tranches": [[1, "2021-07-20", "2000.00", "1685.60", "314.40"]],
            "deliveries": [["SRO/1", "S02", "2021-08-20", "4", "", ""]],
        },
    }
    for unit, data in units.items():
        folder = landing / unit / QUARTER
        rows = []
        for pid in data["participants"]:
            first, last = NAMES[pid]
            sex = "Mężczyzna" if pid == "ELB/3" else "Kobieta"
            rows.append(participant_row(pid, first, last, PESELS[pid], sex, "2021-07-15"))
        write_csv(folder / "uczestnicy.csv", PARTICIPANT_HEADERS, rows, sep=";")
        write_csv(folder / "wydatki.csv", EXPENSE_HEADERS, data["expenses"], sep=";")
        write_csv(folder / "transze.csv", ["Nr transzy", "Data wpływu", "Kwota ogółem", "W tym EFS",
                                           "W tym budżet państwa"], data["tranches"], sep=";")
        write_csv(folder / "swiadczenia.csv", ["Identyfikator uczestnika", "Kod usługi", "Data realizacji",
                                               "Liczba jednostek", "Wartość", "Numer IPUS"], data["deliveries"], sep=";")
        agreement = landing / unit / "umowa"
        write_csv(agreement / "budzet.csv", ["Nr zadania", "Nazwa zadania", "Kategoria kosztów", "Nazwa kategorii",
                                             "Kwota", "Cross-financing", "Środek trwały", "Usługa zlecona"],
                  [[1, "Diagnoza i program usług", "1.1", "Wynagrodzenia", BUDGET[unit][0], "N", "N", "N"],
                   [2, "Usługi społeczne", "3.1", "Usługi zlecone", BUDGET[unit][1], "N", "N", "T"],
                   [0, "Koszty pośrednie", "0.1", "Koszty pośrednie (ryczałt 15%)", BUDGET[unit][2], "N", "N", "N"]],
                  sep=";")
        write_csv(agreement / "harmonogram.csv", ["Kwartał", "Planowane wydatki"],
                  [["2021Q3", "5000.00"], ["2021Q4", "8000.00"]], sep=";")
        write_csv(agreement / "uslugi.csv", ["Kod usługi", "Nazwa usługi", "Obszar (1–14)", "Sposób realizacji",
                                             "Realizator", "NIP realizatora", "Jednostka miary", "Cena jednostkowa"],
                  [["S01", "Usługi opiekuńcze", 4, "samodzielnie", "", "", "godzina", "50.00"],
                   ["S02", "Asystent osoby z niepełnosprawnością", 6, "zlecenie NGO", "Fundacja Razem", "5260001246",
                    "godzina", "60.00"],
                   ["S03", "Animacja społeczności", 11, "zlecenie PES", "Spółdzielnia Socjalna", "", "spotkanie",
                    "250.00"]], sep=";")
        write_csv(agreement / "wskazniki.csv", ["Kod wskaźnika", "Wartość docelowa ogółem", "w tym kobiety",
                                                "w tym mężczyźni"],
                  [["PROD_OSOBY_USLUGI", "100", "60", "40"]], sep=";")
        write_csv(agreement / "kamienie_milowe.csv", ["Kod", "Nazwa", "Data planowana", "Data osiągnięcia"],
                  [["KM1", "Diagnoza potrzeb i potencjału", "2021-03-31", "2021-03-20"],
                   ["KM2", "Program usług społecznych", "2021-06-30", "2021-08-15"],
                   ["KM3", "Utworzenie CUS", "2021-09-30", ""]], sep=";")


# Budget lines (task 1, task 2, task 0 = indirect 15%) summing to the agreement totals of
# config/units.yaml: Elbląg 2 173 900,00 + 326 085,00; Srokowo 2 164 670,00 + 324 700,50.
BUDGET = {"elblag": ("773900.00", "1400000.00", "326085.00"),
          "srokowo": ("764670.00", "1400000.00", "324700.50")}


def tiny_resources(root: Path) -> dict:
    return {
        "warehouse": WarehouseResource(path=str(root / "warehouse" / "cus.duckdb")),
        "landing": LandingResource(root=str(root / "landing")),
        "reports": ReportsResource(root=str(root / "reports")),
        "pseudonymizer": PseudonymizerResource(secret="test-key-not-secret"),
    }


def build_tiny_warehouse(root: Path, instance: dg.DagsterInstance | None = None) -> Path:
    """Landing files -> the real jobs (agreement, unit × quarter, indicators) -> warehouse file."""
    root.mkdir(parents=True, exist_ok=True)
    write_tiny_landing(root / "landing")
    resources = tiny_resources(root)
    defs = build_definitions(resources=resources)
    instance = instance or dg.DagsterInstance.ephemeral()
    for unit in ("elblag", "srokowo"):
        result = defs.resolve_job_def("ingest_agreement_job").execute_in_process(
            partition_key=unit, instance=instance, raise_on_error=True)
        assert result.success
        result = defs.resolve_job_def("ingest_quarter_job").execute_in_process(
            partition_key=f"{unit}|2021Q3", instance=instance, raise_on_error=True)
        assert result.success
    assert defs.resolve_job_def("indicators_job").execute_in_process(instance=instance, raise_on_error=True).success
    return Path(resources["warehouse"].path)


@pytest.fixture(scope="module")
def tiny_published(tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse file, published folder) of the tiny warehouse."""
    root = tmp_path_factory.mktemp("tiny")
    warehouse = build_tiny_warehouse(root)
    published = root / "published"
    publish(warehouse, published)
    return warehouse, published


def test_tiny_warehouse_has_the_hand_computed_raw_rows(tiny_published):
    warehouse, _ = tiny_published
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        counts = dict(conn.sql("SELECT unit, count(*) FROM raw.expenses GROUP BY unit").fetchall())
    assert counts == {"elblag": 4, "srokowo": 2}


def test_published_copy_holds_no_pesel_name_or_pseudonym(tiny_published):
    warehouse, published = tiny_published
    copy = (published / "current.duckdb").resolve()
    blob = copy.read_bytes()
    for pid, pesel in PESELS.items():
        assert pesel.encode() not in blob, pid
        for name in NAMES[pid]:
            assert name.encode("utf-8") not in blob, name
    assert b"ELB/1" not in blob  # the provider's participant identifiers
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        keys = [k for (k,) in conn.sql("SELECT DISTINCT person_key FROM raw.participants").fetchall() if k]
    assert keys and not any(k.encode() in blob for k in keys)
    conn = connect_published(published)
    try:
        columns = {c for (c,) in conn.sql("SELECT DISTINCT column_name FROM duckdb_columns()").fetchall()}
        staging_columns = {c for (c,) in conn.sql(
            "SELECT DISTINCT column_name FROM duckdb_columns() WHERE schema_name = 'staging'").fetchall()}
        schemas = {s for (s,) in conn.sql("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
    finally:
        conn.close()
    assert not columns & {"person_key", "pesel", "pesel_status", "birth_date", "first_name", "last_name",
                          "participant_id", "participant_ids", "item_name", "ipus_no", "disability", "homeless",
                          "minority_migrant", "other_disadvantaged", "age_at_entry"}
    assert not staging_columns & {"value", "raw_value", "raw_row"}
    assert schemas == {"mart", "report", "staging", "raw", "meta"}
    for text in ("Zawadzka", "Halina", "Wynagrodzenie koordynatora"):  # item_name free text names a person
        assert text.encode("utf-8") not in blob


def test_person_grain_tables_are_not_in_the_copy_only_their_aggregates(tiny_published):
    _, published = tiny_published
    conn = connect_published(published)
    try:
        tables = {f"{s}.{t}" for s, t in conn.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        withheld = conn.sql("SELECT schema_name || '.' || table_name FROM meta.withheld_tables ORDER BY 1").fetchall()
        profile = conn.sql("SELECT unit, cumulative_total, cumulative_women, cumulative_men FROM "
                           "report.participant_profile WHERE code = 'PROF_OGOLEM' AND quarter = '2021Q3' "
                           "ORDER BY unit").fetchall()
    finally:
        conn.close()
    assert "mart.dim_participant" not in tables and "mart.person_count" not in tables
    assert [w for (w,) in withheld] == ["mart.dim_participant", "mart.person_count"]
    assert {t for t in tables if t.startswith("raw.")} == {"raw.file_versions"}
    assert profile == [("elblag", 3, 2, 1), ("srokowo", 1, 1, 0)]


def test_lineage_macros_of_the_copy_return_the_warehouse_rows_without_personal_columns(tiny_published):
    warehouse, published = tiny_published
    calls = {"lineage_expenses": "('elblag', '2021Q3', true)", "lineage_deliveries": "('elblag', '2021Q3', false)",
             "lineage_tranches": "('srokowo', '2021Q3', true)", "lineage_budget": "('srokowo')"}
    copy = connect_published(published)
    try:
        with duckdb.connect(str(warehouse), read_only=True) as live:
            for name, args in calls.items():
                published_rel = copy.sql(f"SELECT * FROM report.{name}{args}")
                columns = published_rel.columns
                assert not set(columns) & {"item_name", "participant_id", "ipus_no"}
                expected = live.sql(f"SELECT {', '.join(columns)} FROM report.{name}{args}").fetchall()
                assert published_rel.fetchall() == expected and expected, name
    finally:
        copy.close()
    assert [r[2] for r in expected] == ["Koszty pośrednie", "Diagnoza i program usług", "Usługi społeczne"]


def test_the_warehouse_connection_has_a_memory_limit(tmp_path, monkeypatch):
    """DuckDB's own default (80 % of the machine) beside a batch's frames got the national run
    killed; the warehouse connection takes CUS_DUCKDB_MEMORY_LIMIT or a quarter of the memory."""
    import os

    from core.warehouse import connect, memory_limit

    monkeypatch.setenv("CUS_DUCKDB_MEMORY_LIMIT", "3GB")
    with connect(tmp_path / "w.duckdb") as conn:
        assert conn.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "2.7 GiB"  # 3 GB = 2,79 GiB
    monkeypatch.delenv("CUS_DUCKDB_MEMORY_LIMIT")
    quarter = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 2**30
    assert memory_limit() == f"{max(1, quarter)}GiB"
