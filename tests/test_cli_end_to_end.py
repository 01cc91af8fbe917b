"""The coordinator's commands end to end on a tiny landing set (issue 14, item 5).

One unit (Elbląg, its entry of config/units.yaml), one quarter (2021Q3) plus its agreement files,
a handful of rows: `cus run`, `cus ingest`, `cus reports`, `cus demo`, `cus templates` and the
settings of core/settings.py, each checked by its exit status, what it prints (stable phrases,
not progress lines) and what it changes on disk and in the warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
import yaml
from validation_fixtures import (
    expense,
    write_budget,
    write_deliveries,
    write_expenses,
    write_participants,
    write_services,
    write_tranches,
)

from core.paths import PROJECT_ROOT
from core.registry import REGISTRY_PATH
from core.resources import DEMO_KEY_PREFIX

ENV = ("CUS_WAREHOUSE", "CUS_LANDING", "CUS_REPORTS", "CUS_PUBLISHED", "CUS_PSEUDONYM_KEY", "CUS_REGISTRY",
       "DAGSTER_HOME")


def one_unit_registry(path: Path) -> Path:
    """config/units.yaml with only Elbląg (its defaults and entry unchanged)."""
    registry = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    registry["units"] = [u for u in registry["units"] if u["key"] == "elblag"]
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    return path


def tiny_project(root: Path) -> Path:
    """The tiny Elbląg landing set and a DAGSTER_HOME with the project's dagster.yaml under `root`."""
    landing = root / "landing"
    write_services(landing), write_budget(landing)
    write_participants(landing), write_deliveries(landing), write_expenses(landing), write_tranches(landing)
    (root / "dagster_home").mkdir()
    shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", root / "dagster_home")  # telemetry off, one writer
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return tiny_project(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def env(project, monkeypatch) -> Path:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CUS_WAREHOUSE", str(project / "warehouse" / "cus.duckdb"))
    monkeypatch.setenv("CUS_LANDING", str(project / "landing"))
    monkeypatch.setenv("CUS_REPORTS", str(project / "reports"))
    monkeypatch.setenv("CUS_PUBLISHED", str(project / "published"))
    monkeypatch.setenv("CUS_PSEUDONYM_KEY", "cli-test-key")
    monkeypatch.setenv("CUS_REGISTRY", str(one_unit_registry(project / "units.yaml")))
    monkeypatch.setenv("DAGSTER_HOME", str(project / "dagster_home"))
    from core.registry import load_units

    load_units.cache_clear()
    yield project
    load_units.cache_clear()


def cus(capsys, *argv: str) -> tuple[int, str, str]:
    from pipelines.tools.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def sql(project: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(project / "warehouse" / "cus.duckdb"), read_only=True) as conn:
        return conn.execute(query).fetchall()


def test_run_ingest_reports_and_demo_on_a_tiny_landing_set(env, capsys, monkeypatch):
    from reports import pdf

    project = env
    started = []  # browsers the batch started early for its reports step (reports/pdf.py start_early)
    start_early = pdf.start_early
    monkeypatch.setattr(pdf, "start_early", lambda **settings: (started.append(settings), start_early(**settings)))
    # cus run --no-reports: the agreement and quarter partitions, marts and indicators, the SQL copy
    code, out, err = cus(capsys, "run", "--no-reports")
    assert code == 0 and err == "", out + err
    assert "0 z błędami" in out and "Publikacja kopii do zapytań SQL" in out
    assert sql(project, "SELECT count(*), sum(eligible_amount) FROM staging.expenses") == [(2, D("1730.00"))]
    assert sql(project, "SELECT count(*) FROM staging.participants") == [(3,)]
    # direct 1 230,00 + 500,00 = 1 730,00; indirect 15% = 259,50; eligible 1 989,50
    assert sql(project, "SELECT eligible_cumulative FROM report.settlement WHERE unit = 'elblag' "
                        "AND quarter = '2021Q3'") == [(D("1989.50"),)]
    assert (project / "published" / "current.duckdb").exists()
    assert not (project / "reports" / "2021Q3").exists()  # --no-reports

    # a corrected expense file: cus ingest replaces the partition (a second file version)
    write_expenses(project / "landing", [expense("FV/1/2021", gross="1 000,00", net="1 000,00",
                                                 eligible="1 000,00", vat="0,00")])
    code, out, err = cus(capsys, "ingest", "--unit", "elblag", "--quarter", "2021Q3", "--no-reports")
    assert code == 0 and err == "" and "0 z błędami" in out, out + err
    assert "(jeden przebieg; 1 partycja, bez zmian pomijane)" in out and "Gotowe: 2 przebiegi udane, 0 z błędami." in out, out
    assert sql(project, "SELECT document_no, eligible_amount FROM staging.expenses") == [("FV/1/2021", D("1000.00"))]
    assert sql(project, "SELECT count(*), count(*) FILTER (is_current) FROM raw.file_versions "
                        "WHERE dataset = 'expenses'") == [(2, 1)]
    # 1 000,00 + 150,00 = 1 150,00
    assert sql(project, "SELECT eligible_cumulative FROM report.settlement WHERE unit = 'elblag' "
                        "AND quarter = '2021Q3'") == [(D("1150.00"),)]

    # cus reports: the quarter's files for the unit and the consolidated report
    code, out, err = cus(capsys, "reports", "--quarter", "2021Q3")
    assert code == 0 and err == "", out + err
    assert f"Raporty: {project / 'reports' / '2021Q3'}" in out
    unit_files = sorted(p.name for p in (project / "reports" / "2021Q3" / "elblag").iterdir())
    # + the report's version counter (reports/versioning.py): the first build is version 1
    assert unit_files == ["raport_elblag_2021Q3.html", "raport_elblag_2021Q3.pdf", "raport_elblag_2021Q3.xlsx",
                          "wersja.json"]
    assert json.loads((project / "reports" / "2021Q3" / "elblag" / "wersja.json").read_text())["version"] == 1
    assert (project / "reports" / "2021Q3" / "zbiorczy").is_dir()
    assert (project / "reports" / "2021Q3" / "elblag" / "raport_elblag_2021Q3.pdf").read_bytes()[:5] == b"%PDF-"

    # a warehouse built with one pseudonym key refuses another key (issue 12): the demo key here
    os.environ["CUS_PSEUDONYM_KEY"] = DEMO_KEY_PREFIX + "cli-test"
    code, out, err = cus(capsys, "demo")
    assert code == 1 and "innym kluczem pseudonimizacji" in out + err
    assert not started and pdf._early is None  # refused before any run: no browser
    # cus demo on landed data in its own warehouse: no sample data written over the landing files;
    # the demo-key warning and where things are
    os.environ["CUS_WAREHOUSE"] = str(project / "warehouse_demo" / "cus.duckdb")
    code, out, err = cus(capsys, "demo")
    assert code == 0 and "Błąd" not in err and "Traceback" not in err, out + err  # stderr: Dagster's key warning
    assert f"Hurtownia: {project / 'warehouse_demo' / 'cus.duckdb'}" in out and "Raporty:" in out
    assert "Interfejs: make demo-ui" in out  # `make ui` refuses the demo warehouse without a real key
    assert sorted(p.name for p in (project / "landing").iterdir()) == ["elblag"]
    assert sql(project, "SELECT count(*) FROM staging.expenses") == [(1,)]
    assert len(started) == 1 and pdf._early is None  # taken by the run's reports step, closed with it


def test_templates_write_one_workbook_per_file_and_print_them(env, capsys, tmp_path):
    code, out, err = cus(capsys, "templates", "--out", str(tmp_path / "szablony"))
    assert code == 0 and err == ""
    written = sorted(p.name for p in (tmp_path / "szablony").iterdir())
    assert written and all(name.endswith(".xlsx") for name in written)
    assert sorted(Path(line).name for line in out.splitlines() if line.strip()) == written


def test_settings_from_env_file_never_override_the_environment(tmp_path, monkeypatch):
    from core import settings

    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nCUS_LANDING=data/landing\n\nCUS_REPORTS = x/reports \nBROKEN LINE\n",
                        encoding="utf-8")
    assert settings.read_env_file(env_file) == {"CUS_LANDING": "data/landing", "CUS_REPORTS": "x/reports"}
    assert settings.read_env_file(tmp_path / "missing.env") == {}
    original = settings.read_env_file
    monkeypatch.setattr(settings, "read_env_file", lambda path=None: original(env_file))
    monkeypatch.setenv("CUS_LANDING", "/set/by/deployment")
    monkeypatch.delenv("CUS_REPORTS", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.apply_defaults()
    assert os.environ["CUS_LANDING"] == "/set/by/deployment"  # the environment wins
    assert os.environ["CUS_REPORTS"] == "x/reports"  # .env fills what is missing
    assert os.environ["DAGSTER_HOME"] == str(settings.DAGSTER_HOME)
    assert settings.DAGSTER_HOME.name == ".dagster_home"


def test_errors_are_one_polish_line_and_exit_1(env, capsys):
    code, out, err = cus(capsys, "ingest", "--unit", "nieznana", "--quarter", "2021Q3")
    assert code == 1 and err == "Błąd: Nieznana jednostka 'nieznana'; znane: elblag.\n"
    code, out, err = cus(capsys, "ingest", "--unit", "elblag", "--quarter", "2021Q4")
    assert code == 1 and err.startswith("Błąd: Brak folderu ") and "nie ma czego wczytać dla elblag 2021Q4" in err
    code, out, err = cus(capsys, "reports", "--quarter", "2030Q1")
    assert code == 1 and err == "Błąd: Kwartał 2030Q1 jest poza okresem projektów (2021Q1–2023Q3).\n"
    assert "Traceback" not in out + err


def test_cus_run_rewrites_reports_older_than_their_files(tmp_path, monkeypatch, capsys):
    """A correction loaded with --no-reports (or a run killed while it wrote the reports) leaves reports older
    than their files: `cus status` says so, and the next `cus run` — with nothing new to load — rewrites them."""
    project = tiny_project(tmp_path)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in (("CUS_WAREHOUSE", project / "warehouse" / "cus.duckdb"), ("CUS_LANDING", project / "landing"),
                        ("CUS_REPORTS", project / "reports"), ("CUS_PUBLISHED", project / "published"),
                        ("CUS_PSEUDONYM_KEY", "cli-test-key"), ("CUS_REGISTRY", one_unit_registry(tmp_path / "u.yaml")),
                        ("DAGSTER_HOME", project / "dagster_home")):
        monkeypatch.setenv(name, str(value))
    from core.registry import load_units

    load_units.cache_clear()
    html = project / "reports" / "2021Q3" / "elblag" / "raport_elblag_2021Q3.html"
    code, out, err = cus(capsys, "run")
    assert code == 0 and html.is_file(), out + err
    assert "1 989,50" in html.read_text(encoding="utf-8")  # eligible: 1 730,00 + 15 %

    write_expenses(project / "landing", [expense("FV/1/2021", gross="1 000,00", net="1 000,00",
                                                 eligible="1 000,00", vat="0,00")])
    code, out, err = cus(capsys, "ingest", "--unit", "elblag", "--quarter", "2021Q3", "--no-reports")
    assert code == 0, out + err
    code, out, err = cus(capsys, "status", "--unit", "elblag")
    assert "2021Q3: otrzymano" in out and "(nieaktualny: starszy niż wczytane pliki" in out, out

    code, out, err = cus(capsys, "run")
    assert code == 0 and "brak nowych lub zmienionych plików" in out, out + err
    assert "raporty (HTML, PDF, XLSX): 2 za 2021Q3–2021Q3" in out, out  # the unit's and the consolidated one
    assert "1 150,00" in html.read_text(encoding="utf-8")
    code, out, err = cus(capsys, "status", "--unit", "elblag")
    assert "2021Q3: raport gotowy" in out and "(nieaktualny:" not in out, out
    code, out, err = cus(capsys, "run")  # nothing outdated any more: nothing rewritten
    assert "raporty (HTML, PDF, XLSX): 0 — bez zmian" in out, out

    # a refused file: one Polish line, no Dagster event log or English stack trace on the console
    from validation_fixtures import EXPENSE_HEADERS, write_csv

    write_csv(project / "landing" / "elblag" / "2021Q3" / "wydatki.csv", EXPENSE_HEADERS[:-5], [["FV/9/2021"]])
    code, out, err = cus(capsys, "ingest", "--unit", "elblag", "--quarter", "2021Q3", "--no-reports")
    assert code == 1, out + err
    assert "BŁĄD   ingest_batch_job: Pliki odrzucone" in out and "brak wymaganych kolumn" in out, out
    assert not any(noise in out + err for noise in ("Stack Trace", "dagster._core", "STEP_FAILURE", " - DEBUG - ")), out

    # a renamed optional column is not dropped in silence: its values were not read (here: commissioned = N)
    headers = [h if h != "Usługa zlecona (T/N)" else "Zlecona na zewnątrz" for h in EXPENSE_HEADERS]
    write_csv(project / "landing" / "elblag" / "2021Q3" / "wydatki.csv", headers, [expense("FV/1/2021")])
    code, out, err = cus(capsys, "ingest", "--unit", "elblag", "--quarter", "2021Q3", "--no-reports")
    assert code == 0, out + err
    assert ("  Uwaga: Plik elblag/2021Q3/wydatki.csv: kolumny spoza wzoru pominięte („Zlecona na zewnątrz”); brak "
            "kolumn „Usługa zlecona (T/N)”, „Faktura korygująca (T/N)” — przyjęto dla nich wartości puste lub domyślne. Jeśli to te same kolumny "
            "pod inną nazwą, popraw nagłówki (szablon: cus templates) i prześlij plik ponownie.") in out, out
    load_units.cache_clear()
