"""The unit × quarter status (assets/report/status.py, asset report/status, `cus status`).

A tiny warehouse written by code (the rows the ingest and validation steps write) for two units of
the registry, plus report files on disk; every expected status is worked out by hand from it.
"""

from __future__ import annotations

import io
import os
import time
from contextlib import redirect_stdout
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest

from assets.raw.ingest import ensure_raw_tables
from assets.report.status import (
    MISSING_CLOSED,
    MISSING_FILE,
    MISSING_OPEN,
    NOT_APPLICABLE,
    QUARANTINE,
    RECEIVED,
    REFUSED,
    REPORT_READY,
    cell_text,
    grid_markdown,
    outdated_reports,
    quarantine_lines,
    unit_quarter_status,
)
from assets.staging.staging_assets import ensure_validation_tables
from core.registry import load_units
from core.warehouse import connect

TODAY = date(2021, 8, 15)  # 2021Q3 is open, earlier quarters closed
LOADED = datetime(2021, 7, 20, 10, 0)
BY_KEY = {u.key: u for u in load_units()}
# Registry order is the order given (starachowice first on purpose: not alphabetical).
UNITS = (BY_KEY["starachowice"], BY_KEY["elblag"])


def _version(conn, unit, quarter, dataset, sha, current=True, loaded=LOADED):
    conn.execute("INSERT INTO raw.file_versions VALUES (?, ?, ?, ?, ?, 1, 100, 'utf-8', 10, [], ?, ?, ?)",
                 [unit, quarter, dataset, f"{unit}/{quarter}/{dataset}.csv", sha, loaded, loaded, current])


def _summary(conn, unit, quarter, dataset, received, accepted, quarantined, warnings):
    conn.execute("INSERT INTO staging.validation_summary VALUES (?, ?, ?, 'f.csv', 'sha', ?, ?, ?, ?, ?)",
                 [unit, quarter, dataset, received, accepted, quarantined, warnings, LOADED])


def _quarantine(conn, unit, quarter, dataset, row_number, rule, severity, message="komunikat"):
    conn.execute("INSERT INTO staging.quarantine VALUES (?, ?, ?, 'f.csv', 'sha', ?, 'c', 'C', ?, ?, ?, NULL, ?)",
                 [unit, quarter, dataset, row_number, rule, severity, message, LOADED])


def _refusal(conn, unit, quarter, dataset, problem, refused_at):
    conn.execute("INSERT INTO raw.file_refusals VALUES (?, ?, ?, ?, ?, 'Popraw plik.', ?)",
                 [unit, quarter, dataset, f"{unit}/{quarter}/{dataset}.csv", problem, refused_at])


def _report(root: Path, unit: str, quarter: str, formats=("html", "pdf", "xlsx"), written: datetime | None = None):
    folder = root / quarter / unit
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = folder / f"raport_{unit}_{quarter}.{fmt}"
        path.write_text(f"raport {unit} {quarter} {fmt}", encoding="utf-8")
        if written is not None:
            stamp = time.mktime(written.timetuple())
            os.utime(path, (stamp, stamp))


@pytest.fixture
def landed(tmp_path):
    """starachowice 2020Q4 received (the three files sent every quarter) + report, 2021Q2 a file refused by the raw step (none loaded);
    elblag 2021Q1 tranches refused by a blocking rule, 2021Q2 quarantined expenses, 2021Q3 received
    with a report older than its files (and a refusal older than the file now loaded); the rest nothing."""
    warehouse = tmp_path / "cus.duckdb"
    reports = tmp_path / "reports"
    with connect(warehouse) as conn:
        ensure_raw_tables(conn, [])
        ensure_validation_tables(conn)
        for dataset, sha in (("participants", "a1"), ("deliveries", "a2"), ("expenses", "a3")):
            _version(conn, "starachowice", "2020Q4", dataset, sha)
            _summary(conn, "starachowice", "2020Q4", dataset, 5, 5, 0, 0)
        _version(conn, "elblag", "2021Q1", "tranches", "b1")
        _summary(conn, "elblag", "2021Q1", "tranches", 2, 0, 2, 0)
        _quarantine(conn, "elblag", "2021Q1", "tranches", None, "tranche_eu_share", "error",
                    "Część EFS transz nie zgadza się z kwotą ogółem.")
        _refusal(conn, "starachowice", "2021Q2", "expenses", "plik nie ma wymaganych kolumn: Nr dokumentu.",
                 LOADED)
        _refusal(conn, "elblag", "2021Q3", "participants", "plik innej jednostki.", datetime(2021, 7, 19, 9, 0))
        _version(conn, "elblag", "2021Q2", "expenses", "c0", current=False)  # replaced by c1
        _version(conn, "elblag", "2021Q2", "expenses", "c1")
        _summary(conn, "elblag", "2021Q2", "expenses", 10, 8, 2, 1)
        for dataset, sha in (("participants", "c2"), ("deliveries", "c3")):
            _version(conn, "elblag", "2021Q2", dataset, sha)
            _summary(conn, "elblag", "2021Q2", dataset, 1, 1, 0, 0)
        for row, rule, severity in ((4, "eligible_le_gross", "error"), (7, "vat_consistent", "error"),
                                    (7, "net_le_gross", "error"), (9, "formula_text", "warning")):
            _quarantine(conn, "elblag", "2021Q2", "expenses", row, rule, severity)
        _version(conn, "elblag", "2021Q3", "participants", "d1")
        _version(conn, "elblag", "2021Q3", "deliveries", "d2")
        _summary(conn, "elblag", "2021Q3", "participants", 3, 3, 0, 0)
        _summary(conn, "elblag", "2021Q3", "deliveries", 4, 4, 0, 0)
        _version(conn, "elblag", "2021Q3", "expenses", "d3")
        _summary(conn, "elblag", "2021Q3", "expenses", 2, 2, 0, 0)
    _report(reports, "starachowice", "2020Q4")  # written now, after LOADED
    _report(reports, "elblag", "2021Q3", formats=("html",), written=datetime(2021, 7, 1, 9, 0))
    return warehouse, reports


def _cells(frame):
    return {(r["unit"], r["quarter"]): r for r in frame.iter_rows(named=True)}


def test_every_unit_quarter_gets_its_status(landed):
    warehouse, reports = landed
    with connect(warehouse, read_only=True) as conn:
        frame = unit_quarter_status(conn, UNITS, reports, today=TODAY)
    cells = _cells(frame)
    # Calendar 2020Q4 (starachowice's first) … 2023Q3 (elblag's last) = 12 quarters × 2 units.
    assert frame.height == 24
    assert frame["unit"].to_list()[:12] == ["starachowice"] * 12  # registry order, then quarter
    assert {q: cells[("starachowice", q)]["status"] for q in ("2020Q4", "2021Q1", "2021Q2", "2021Q3")} == {
        "2020Q4": REPORT_READY, "2021Q1": MISSING_CLOSED, "2021Q2": REFUSED, "2021Q3": MISSING_OPEN}
    assert {q: cells[("elblag", q)]["status"] for q in ("2020Q4", "2021Q1", "2021Q2", "2021Q3")} == {
        "2020Q4": NOT_APPLICABLE, "2021Q1": REFUSED, "2021Q2": QUARANTINE, "2021Q3": RECEIVED}
    # After the project periods: starachowice ends 30.04.2023 (2023Q2 in, 2023Q3 not); elblag 31.07.2023.
    assert cells[("starachowice", "2023Q2")]["status"] == MISSING_OPEN
    assert cells[("starachowice", "2023Q3")]["status"] == NOT_APPLICABLE
    assert cells[("elblag", "2023Q3")]["status"] == MISSING_OPEN

    quarantined = cells[("elblag", "2021Q2")]
    assert (quarantined["quarantined_rows"], quarantined["warning_rows"], quarantined["quarantine_severity"]) == \
        (2, 1, "błąd")
    assert quarantined["quarantined_files"] == "Zestawienie dokumentów księgowych (wydatki): 2"
    refused = cells[("elblag", "2021Q1")]
    assert (refused["refused_files"], refused["quarantined_rows"], refused["files_received"]) == (
        "Transze zaliczki: Część EFS transz nie zgadza się z kwotą ogółem.", 0, 1)
    raw_refused = cells[("starachowice", "2021Q2")]
    assert (raw_refused["refused_files"], raw_refused["files_received"], raw_refused["files"]) == (
        "Zestawienie dokumentów księgowych (wydatki): plik nie ma wymaganych kolumn: Nr dokumentu.", 0, None)
    received = cells[("elblag", "2021Q3")]
    assert received["files"] == ("Uczestnicy projektu (arkusz SL2014), Świadczenia (zrealizowane usługi), "
                                 "Zestawienie dokumentów księgowych (wydatki)")
    assert (received["report_ready"], received["report_outdated"], received["report_formats"]) == (True, True, "html")
    assert received["refused_files"] is None  # the refusal is older than the file loaded since
    ready = cells[("starachowice", "2020Q4")]
    assert (ready["files_received"], ready["report_formats"], ready["report_outdated"]) == (3, "html, pdf, xlsx", False)


def test_without_a_warehouse_every_period_quarter_is_missing_never_the_rest(tmp_path):
    frame = unit_quarter_status(None, UNITS, tmp_path / "reports", today=date(2026, 1, 1))
    statuses = frame.group_by("unit", "status").len().sort("unit", "status").rows()
    # starachowice: 2020Q4–2023Q2 = 11 quarters; elblag: 2021Q1–2023Q3 = 11; calendar 12 quarters.
    assert statuses == [("elblag", MISSING_CLOSED, 11), ("elblag", NOT_APPLICABLE, 1),
                        ("starachowice", MISSING_CLOSED, 11), ("starachowice", NOT_APPLICABLE, 1)]


def test_grid_markdown_has_units_as_rows_quarters_as_columns_and_a_legend(landed):
    warehouse, reports = landed
    with connect(warehouse, read_only=True) as conn:
        frame = unit_quarter_status(conn, UNITS, reports, today=TODAY)
    lines = grid_markdown(frame).splitlines()
    assert lines[0].startswith("| jednostka | 2020Q4 | 2021Q1 | 2021Q2 | 2021Q3 | 2021Q4 |")
    assert lines[2].startswith("| Centrum Usług Społecznych w Starachowicach | ✓ raport | ✗ brak | ⛔ odrzucony | … czeka |")
    assert lines[3].startswith("| Elbląskie Centrum Usług Społecznych | · | ⛔ odrzucony | ⚠ 2 | ✓ dane | … czeka |")
    assert "**Legenda:** ✓ raport — dane przyjęte" in lines[-1]
    assert "· — nie dotyczy — kwartał poza okresem realizacji projektu jednostki" in lines[-1]


def test_status_asset_renders_grid_detail_and_report_links(landed):
    from assets.report.status_asset import STATUS_KEY, build_status_asset
    from core.resources import ReportsResource, WarehouseResource

    warehouse, reports = landed
    result = dg.materialize([build_status_asset(UNITS)], instance=dg.DagsterInstance.ephemeral(),
                            resources={"warehouse": WarehouseResource(path=str(warehouse)),
                                       "reports": ReportsResource(root=str(reports), port=48123)})
    (event,) = result.asset_materializations_for_node("report__status")
    assert event.asset_key == STATUS_KEY
    meta = event.metadata
    grid = meta["stan jednostek i kwartałów"].value
    assert "| Elbląskie Centrum Usług Społecznych | · | ⛔ odrzucony | ⚠ 2 | ✓ dane |" in grid
    assert meta["dagster/row_count"].value == 24
    # Real today (2026): every quarter without files is closed.
    assert meta["liczba: brak (kwartał zamknięty)"].value == 17
    assert meta["liczba: plik odrzucony"].value == 2
    assert meta["liczba: nie dotyczy"].value == 2
    detail = meta["szczegóły: Centrum Usług Społecznych w Starachowicach"].value.splitlines()
    assert detail[2] == (
        "| 2020Q4 | raport gotowy | Uczestnicy projektu (arkusz SL2014), Świadczenia (zrealizowane usługi), Zestawienie "
        "dokumentów księgowych (wydatki) | — | — | — | — | "
        "[HTML](http://127.0.0.1:48123/2020Q4/starachowice/raport_starachowice_2020Q4.html) "
        "[PDF](http://127.0.0.1:48123/2020Q4/starachowice/raport_starachowice_2020Q4.pdf) "
        "[XLSX](http://127.0.0.1:48123/2020Q4/starachowice/raport_starachowice_2020Q4.xlsx) |")
    elblag = meta["szczegóły: Elbląskie Centrum Usług Społecznych"].value.splitlines()
    assert elblag[2] == ("| 2021Q1 | plik odrzucony | Transze zaliczki | Uczestnicy projektu (arkusz SL2014), "
                         "Świadczenia (zrealizowane usługi), Zestawienie dokumentów księgowych (wydatki) | Transze "
                         "zaliczki: Część EFS transz nie zgadza się z kwotą ogółem. | — | — | — |")
    assert elblag[3] == ("| 2021Q2 | kwarantanna | Uczestnicy projektu (arkusz SL2014), Świadczenia (zrealizowane "
                         "usługi), Zestawienie dokumentów księgowych (wydatki) | — | — | "
                         "Zestawienie dokumentów księgowych (wydatki): 2 | 1 | — |")


def test_cus_status_prints_the_grid_filtered_by_unit_and_quarter(landed, monkeypatch):
    from pipelines.tools import cli

    warehouse, reports = landed
    monkeypatch.setenv("CUS_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CUS_REPORTS", str(reports))
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["status", "--unit", "elblag", "--quarter", "2021Q2"])
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["jednostka", "2021Q2"]
    assert lines[2].split("  ")[0] == "Elbląskie Centrum Usług Społecznych"
    assert lines[2].split()[-2:] == ["⚠", "2"]
    assert not any("Starachowic" in line for line in lines)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_report_links_in_the_status_metadata_return_the_files(landed):
    import re
    import urllib.request

    from assets.report.status_asset import build_status_asset
    from core.resources import ReportsResource, WarehouseResource
    from pipelines.tools.report_server import start_report_server

    warehouse, reports = landed
    port = _free_port()
    result = dg.materialize([build_status_asset(UNITS)], instance=dg.DagsterInstance.ephemeral(),
                            resources={"warehouse": WarehouseResource(path=str(warehouse)),
                                       "reports": ReportsResource(root=str(reports), port=port)})
    (event,) = result.asset_materializations_for_node("report__status")
    detail = event.metadata["szczegóły: Centrum Usług Społecznych w Starachowicach"].value
    links = dict(re.findall(r"\[(HTML|PDF|XLSX)\]\((http://[^)]+)\)", detail))
    assert sorted(links) == ["HTML", "PDF", "XLSX"]
    server = start_report_server(reports, port)
    try:
        for fmt, url in links.items():
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                assert response.read().decode("utf-8") == f"raport starachowice 2020Q4 {fmt.lower()}"
        with urllib.request.urlopen(links["XLSX"], timeout=5) as response:
            assert response.headers["Content-Type"] == \
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        with pytest.raises(urllib.error.HTTPError) as outside:  # nothing above the reports folder
            urllib.request.urlopen(f"http://127.0.0.1:{port}/../cus.duckdb", timeout=5)
        assert outside.value.code == 404
    finally:
        server.stop()


def test_status_sensor_requests_one_refresh_per_burst_of_finished_runs():
    from assets.report.status_asset import build_status_sensor

    @dg.op
    def noop():
        return 1

    @dg.job(name="ingest_quarter_job")
    def ingest_quarter_job():
        noop()

    @dg.job(name="status_job")
    def status_job():
        noop()

    sensor = build_status_sensor([ingest_quarter_job], status_job)
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance)
    assert isinstance(sensor(context), dg.SkipReason)  # nothing has run yet
    assert ingest_quarter_job.execute_in_process(instance=instance).success
    assert ingest_quarter_job.execute_in_process(instance=instance).success
    request = sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("stan-")
    again = dg.build_sensor_context(instance=instance, cursor=context.cursor)
    assert isinstance(sensor(again), dg.SkipReason)  # the two runs were one burst: one refresh
    assert status_job.execute_in_process(instance=instance).success  # its own runs do not trigger it
    assert isinstance(sensor(again), dg.SkipReason)


def test_report_links_use_the_port_cus_ui_was_given(monkeypatch, tmp_path):
    from core.resources import ReportsResource

    monkeypatch.delenv("CUS_REPORTS_PORT", raising=False)
    assert ReportsResource(root=str(tmp_path)).base_url == "http://127.0.0.1:3001"
    monkeypatch.setenv("CUS_REPORTS_PORT", "3918")  # what `cus ui --reports-port 3918` passes to dagster dev
    assert ReportsResource(root=str(tmp_path)).base_url == "http://127.0.0.1:3918"
    assert ReportsResource(root=str(tmp_path), port=4000).base_url == "http://127.0.0.1:4000"


def test_a_quarter_without_a_file_sent_every_quarter_is_flagged_and_a_report_follows_every_file_it_reads(tmp_path):
    """schemas/contract.yaml `every_quarter`: participants, deliveries, expenses. A report reads its quarter's files,
    every earlier quarter's (cumulative figures) and the agreement's: a newer one of any makes it outdated."""
    warehouse, reports = tmp_path / "cus.duckdb", tmp_path / "reports"
    later = datetime(2021, 11, 2, 9, 0)
    with connect(warehouse) as conn:
        ensure_raw_tables(conn, [])
        ensure_validation_tables(conn)
        for dataset in ("participants", "deliveries"):  # no expenses file in elblag 2021Q1
            _version(conn, "elblag", "2021Q1", dataset, f"{dataset}-1")
            _summary(conn, "elblag", "2021Q1", dataset, 1, 1, 0, 0)
        for quarter in ("2021Q2", "2021Q3"):
            for dataset in ("participants", "deliveries", "expenses"):
                _version(conn, "elblag", quarter, dataset, f"{dataset}-{quarter}")
                _summary(conn, "elblag", quarter, dataset, 1, 1, 0, 0)
        _version(conn, "starachowice", None, "budget", "budget-1", loaded=later)  # agreement file, loaded later
        for dataset in ("participants", "deliveries", "expenses"):
            _version(conn, "starachowice", "2020Q4", dataset, f"s-{dataset}")
            _summary(conn, "starachowice", "2020Q4", dataset, 1, 1, 0, 0)
        # elblag 2021Q1 re-sent later: the reports of 2021Q1 and of every later quarter read it
        conn.execute("UPDATE raw.file_versions SET last_loaded_at = ? WHERE unit = 'elblag' AND quarter = '2021Q1' "
                     "AND dataset = 'participants'", [later])
    written = datetime(2021, 10, 1, 9, 0)  # after LOADED, before `later`
    for unit, quarter in (("elblag", "2021Q1"), ("elblag", "2021Q2"), ("elblag", "2021Q3"),
                          ("starachowice", "2020Q4")):
        _report(reports, unit, quarter, written=written)
    with connect(warehouse, read_only=True) as conn:
        cells = _cells(unit_quarter_status(conn, UNITS, reports, today=TODAY))
        for unit, quarter in (("elblag", "2021Q1"), ("elblag", "2021Q2"), ("elblag", "2021Q3"), ("starachowice", "2020Q4")):
            (tmp_path / "landing" / unit / quarter).mkdir(parents=True)
        (tmp_path / "landing" / "elblag" / "2021Q2").rmdir()  # its folder gone: the rule cannot rewrite it
        outdated = outdated_reports(conn, UNITS, reports, tmp_path / "landing")
    missing = cells[("elblag", "2021Q1")]
    assert (missing["status"], missing["missing_files"]) == (MISSING_FILE, "Zestawienie dokumentów księgowych (wydatki)")
    assert cell_text(missing) == "? brak pliku · raport"
    assert cells[("elblag", "2021Q2")]["missing_files"] is None
    assert [cells[("elblag", q)]["report_outdated"] for q in ("2021Q1", "2021Q2", "2021Q3")] == [True, True, True]
    assert cells[("elblag", "2021Q2")]["status"] == RECEIVED  # not "raport gotowy": its report is outdated
    assert cells[("starachowice", "2020Q4")]["report_outdated"] is True  # the agreement's budget came after it
    assert outdated == {"elblag": ["2021Q1", "2021Q3"], "starachowice": ["2020Q4"]}


def test_quarantine_lines_name_file_row_column_and_message_errors_first(landed):
    warehouse, _reports = landed
    with connect(warehouse, read_only=True) as conn:
        lines = quarantine_lines(conn, "elblag", "2021Q2")
        short = quarantine_lines(conn, "elblag", "2021Q2", max_rows=2)
        assert quarantine_lines(conn, "elblag", "2021Q4") == []
    assert lines == ["  błąd: f.csv, wiersz 4, kolumna „C”: komunikat", "  błąd: f.csv, wiersz 7, kolumna „C”: komunikat",
                     "  błąd: f.csv, wiersz 7, kolumna „C”: komunikat",
                     "  ostrzeżenie: f.csv, wiersz 9, kolumna „C”: komunikat"]
    assert short[:2] == lines[:2] and short[2].startswith("  … i 2 dalsze (")
