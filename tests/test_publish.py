"""Publishing the read-only SQL copy: what is copied, what is left out, switching and cleanup,
waiting for a writer, and the Dagster side (publish job in the warehouse pool, run-status sensor)."""

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.publish import (
    CURRENT_LINK,
    MANIFEST,
    PublishError,
    column_policy,
    connect_published,
    current_copy,
    is_published_table,
    publish,
    withheld_reason,
)
from core.resources import PublishedResource, WarehouseResource
from pipelines.jobs import build_publish_job
from pipelines.sensors import build_publish_sensors

PESEL = "61041210150"


def make_warehouse(path: Path) -> Path:
    """A hand-made warehouse with every kind of column the publishing rules care about."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as conn:
        for schema in ("raw", "staging", "mart", "report"):
            conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE raw.participants AS SELECT '{PESEL}' AS pesel, 'Halina' AS first_name")
        conn.execute(
            "CREATE TABLE mart.dim_participant AS SELECT * FROM (VALUES "
            "('elblag', 'k1', 'K', DATE '1961-04-12', 'tak', 60, 'isced1'), "
            "('elblag', 'k2', 'M', DATE '1950-01-05', 'nie', 71, 'isced2')) "
            "t(unit, person_key, sex, birth_date, disability, age_at_entry, education)"
        )
        conn.execute(
            "CREATE TABLE mart.fact_expenses AS SELECT 'elblag' AS unit, '2021Q3' AS quarter, 1 AS task_no, "
            "1000.00::DECIMAL(18,2) AS eligible_amount, 'Wynagrodzenie Halina Zawadzka' AS item_name"
        )
        conn.execute(
            "CREATE TABLE mart.fact_deliveries AS SELECT 'elblag' AS unit, 'k1' AS person_key, 'S01' AS service_code, "
            "2.00::DECIMAL(18,2) AS units, 100.00::DECIMAL(18,2) AS \"value\", 'IPUS/1' AS ipus_no"
        )
        conn.execute(
            "CREATE TABLE report.indicators AS SELECT 'elblag' AS unit, '2021Q3' AS quarter, "
            "'persons_covered' AS indicator_code, 2 AS total, 1 AS women, 1 AS men"
        )
        conn.execute(
            f"CREATE TABLE staging.quarantine AS SELECT 'elblag' AS unit, 'participants' AS dataset, 'pesel' AS \"column\", "
            f"'checksum' AS rule, 'błędna suma kontrolna' AS message, '{PESEL}' AS \"value\""
        )
        # a PESEL typed into a shifted (non-personal) column is quoted by the validator's message
        conn.execute(
            f"CREATE TABLE report.quarantine_reasons AS SELECT 'elblag' AS unit, '2021Q3' AS quarter, "
            f"'deliveries' AS dataset, 'Kolumna „Liczba jednostek”: wartość „{PESEL}” spoza dozwolonego zakresu "
            f"(0–1000). Popraw wartość.' AS reason, 1 AS \"rows\""
        )
        conn.execute("CREATE TABLE staging.expenses AS SELECT 1 AS task_no")
        conn.execute(
            "CREATE TABLE mart.person_count AS SELECT 'elblag' AS unit, 'PROF_NIEPELNOSPRAWNI' AS code, "
            "'2021Q3' AS count_quarter, 'K' AS sex"
        )
        conn.execute(
            "CREATE TABLE report.participant_profile AS SELECT * FROM (VALUES "
            "('elblag', '2021Q3', 'PROF_OGOLEM', false, 3, 2, 1, 12, 9, 3), "
            "('elblag', '2021Q3', 'PROF_NIEPELNOSPRAWNI', true, 3, 2, 1, 12, 9, 3), "
            "('elblag', '2021Q3', 'PROF_BEZDOMNI', true, 0, 0, 0, 6, 6, 0)) "
            "t(unit, quarter, code, sensitive, quarter_total, quarter_women, quarter_men, "
            "cumulative_total, cumulative_women, cumulative_men)"
        )
        conn.execute(
            "CREATE TABLE raw.file_versions AS SELECT 'elblag' AS unit, '2021Q3' AS quarter, 'expenses' AS dataset, "
            "'elblag/2021Q3/wydatki.csv' AS source_file, 'abc' AS file_sha256, 1 AS version_no, true AS is_current"
        )
        conn.execute("COMMENT ON TABLE mart.fact_expenses IS 'Wydatki kwalifikowalne; it''s documented'")
        conn.execute("COMMENT ON COLUMN mart.fact_expenses.eligible_amount IS 'kwota kwalifikowalna (zł)'")
    return path


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return make_warehouse(tmp_path / "warehouse" / "cus.duckdb")


def test_publish_copies_mart_report_and_validation_without_personal_data(warehouse, tmp_path):
    published = tmp_path / "published"
    progress: list[str] = []
    result = publish(warehouse, published, echo=progress.append)

    # person-grain tables are not published at all; raw only for file versions (lineage)
    assert result.row_counts == {"mart.fact_deliveries": 1, "mart.fact_expenses": 1, "raw.file_versions": 1,
                                 "report.indicators": 1, "report.participant_profile": 3,
                                 "report.quarantine_reasons": 1, "staging.quarantine": 1}
    assert result.dropped_columns == {
        "mart.fact_deliveries": ["ipus_no", "person_key"],
        "mart.fact_expenses": ["item_name"],
        "staging.quarantine": ["value"],
    }
    assert progress[0].startswith("  pominięto tabelę mart.dim_participant: jeden wiersz na uczestnika")
    assert progress[1].startswith("  pominięto tabelę mart.person_count")
    assert progress[2] == "  [1/7] mart.fact_deliveries: 1 wiersz (pominięto: person_key, ipus_no)"
    copy = published / CURRENT_LINK
    assert copy.is_symlink() and copy.resolve() == result.path and result.path.name.startswith("cus_")
    assert not os.stat(result.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only file
    blob = result.path.read_bytes()
    assert PESEL.encode() not in blob and b"Halina" not in blob and b"Zawadzka" not in blob

    conn = connect_published(published)
    try:
        assert conn.sql("SELECT schema_name || '.' || table_name, reason FROM meta.withheld_tables ORDER BY 1"
                        ).fetchall()[0][0] == "mart.dim_participant"
        assert conn.sql("SELECT count(*) FROM meta.withheld_tables").fetchone()[0] == 2
        # sensitive breakdown: a small count hides its whole total/women/men triple; zero stays visible
        assert conn.sql("SELECT code, quarter_total, quarter_women, quarter_men, cumulative_total, cumulative_women, "
                        "cumulative_men FROM report.participant_profile ORDER BY code").fetchall() == [
            ("PROF_BEZDOMNI", 0, 0, 0, 6, 6, 0),
            ("PROF_NIEPELNOSPRAWNI", None, None, None, None, None, None),
            ("PROF_OGOLEM", 3, 2, 1, 12, 9, 3),  # not sensitive: published as computed
        ]
        assert "ukryte (NULL)" in conn.sql("SELECT comment FROM duckdb_tables() "
                                           "WHERE table_name = 'participant_profile'").fetchone()[0]
        assert conn.sql("SELECT reason FROM report.quarantine_reasons").fetchone()[0] == \
            "Kolumna „Liczba jednostek”: wartość „…” spoza dozwolonego zakresu (0–1000). Popraw wartość."
        assert conn.sql("SELECT dataset, version_no FROM raw.file_versions").fetchall() == [("expenses", 1)]
        # money stays DECIMAL, a delivery keeps its value (only staging loses rejected cell values)
        assert conn.sql("SELECT typeof(eligible_amount), eligible_amount FROM mart.fact_expenses").fetchone() == \
            ("DECIMAL(18,2)", __import__("decimal").Decimal("1000.00"))
        assert conn.sql('SELECT "value" FROM mart.fact_deliveries').fetchone()[0] == 100
        assert conn.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 'fact_expenses'").fetchone()[0] == \
            "Wydatki kwalifikowalne; it's documented"
        assert conn.sql("SELECT description FROM meta.columns WHERE table_name = 'fact_expenses' "
                        "AND column_name = 'eligible_amount'").fetchone()[0] == "kwota kwalifikowalna (zł)"
        assert conn.sql("SELECT count(*) FROM meta.dropped_columns").fetchone()[0] == 4
        tables = {f"{s}.{t}" for s, t in conn.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        assert {t for t in tables if t.startswith(("raw.", "staging."))} == {"raw.file_versions", "staging.quarantine"}
        assert not {t for t in tables if t.startswith("meta.")} ^ {
            "meta.publication", "meta.tables", "meta.columns", "meta.dropped_columns", "meta.withheld_tables"}
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("CREATE TABLE mart.x (a INT)")
        with pytest.raises(duckdb.Error):
            conn.execute(f"ATTACH '{warehouse}' AS wh")  # no way back to the live warehouse
    finally:
        conn.close()
    manifest = json.loads((published / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["file"] == result.path.name and manifest["tables"]["staging.quarantine"] == 1


def test_column_policy_drops_profile_only_at_person_grain():
    aggregate = ["unit", "quarter", "disability", "women", "men"]
    assert column_policy("report", aggregate) == {}
    person = ["person_key", "sex", "disability", "municipality"]
    assert set(column_policy("mart", person)) == {"person_key", "disability", "municipality"}
    assert column_policy("mart", ["service_code", "value"]) == {}
    assert set(column_policy("staging", ["rule", "value"])) == {"value"}


def test_person_grain_tables_are_withheld_by_name_and_aggregates_are_not():
    assert withheld_reason("mart", "dim_participant") and withheld_reason("mart", "person_count")
    assert withheld_reason("mart", "participant_history")  # a future person-grain table
    assert withheld_reason("report", "participant_profile") is None  # aggregates
    assert withheld_reason("mart", "fact_delivery") is None
    assert not is_published_table("raw", "participants") and is_published_table("raw", "file_versions")


def test_changed_publishing_rules_republish_an_unchanged_warehouse(warehouse, tmp_path, monkeypatch):
    published = tmp_path / "published"
    first = publish(warehouse, published)
    assert publish(warehouse, published).skipped
    monkeypatch.setattr("assets.publish.copy.suppression_threshold", lambda: 10)
    again = publish(warehouse, published)
    assert not again.skipped and again.path != first.path


def test_unchanged_warehouse_is_not_republished_and_old_copies_are_deleted(warehouse, tmp_path):
    published = tmp_path / "published"
    first = publish(warehouse, published)
    again = publish(warehouse, published)
    assert again.skipped and again.path == first.path and "bez zmian" in again.reason

    copies = [first.path] + [publish(warehouse, published, force=True, keep=2).path for _ in range(3)]
    assert len(set(copies)) == 4
    remaining = sorted(p.name for p in published.glob("cus_*.duckdb"))
    assert remaining == sorted(p.name for p in copies[-2:])
    assert current_copy(published) == copies[-1]

    with duckdb.connect(str(warehouse)) as conn:  # a write changes the fingerprint
        conn.execute("INSERT INTO report.indicators VALUES ('srokowo', '2021Q3', 'persons_covered', 1, 1, 0)")
    changed = publish(warehouse, published, keep=2)
    assert not changed.skipped and changed.row_counts["report.indicators"] == 2


def test_a_reader_keeps_its_copy_while_a_new_one_is_published(warehouse, tmp_path):
    published = tmp_path / "published"
    publish(warehouse, published)
    reader = connect_published(published)
    try:
        for _ in range(3):
            publish(warehouse, published, force=True, keep=1)
        assert reader.sql("SELECT count(*) FROM report.indicators").fetchone()[0] == 1
    finally:
        reader.close()


HOLD_LOCK = textwrap.dedent("""
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1])
    conn.execute("INSERT INTO report.indicators VALUES ('myslenice', '2021Q3', 'persons_covered', 5, 3, 2)")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.close()
""")


def _hold_writer_lock(warehouse: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(warehouse), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_publish_waits_for_a_writer_then_copies_its_rows(warehouse, tmp_path):
    """No clock: the writer holds the lock until publish says it is waiting; only then is the lock
    released (from publish's own echo), so a copy made without waiting could not exist."""
    proc = _hold_writer_lock(warehouse, 600)
    events: list[str] = []

    def said(text: str) -> None:
        events.append(text)
        if "czekam" in text and proc.poll() is None:
            events.append("writer still holds the lock")
            proc.kill()
            proc.wait()

    try:
        result = publish(warehouse, tmp_path / "published", lock_timeout_s=30, echo=said)
        events.append("published")
        assert events[0].startswith("  hurtownia zajęta przez przebieg zapisujący — czekam")
        assert events[1] == "writer still holds the lock" and events[-1] == "published"
        assert result.row_counts["report.indicators"] == 2
    finally:
        proc.kill()
        proc.wait()


def test_publish_gives_up_with_one_polish_line_when_the_writer_stays(warehouse, tmp_path):
    proc = _hold_writer_lock(warehouse, 30)
    try:
        with pytest.raises(PublishError, match="zajęta przez inny proces"):
            publish(warehouse, tmp_path / "published", lock_timeout_s=0.5)
        assert not list((tmp_path / "published").glob("cus_*")) and not list((tmp_path / "published").glob(".cus_*"))
    finally:
        proc.kill()
        proc.wait()


def test_missing_warehouse_and_missing_copy_are_clear_errors(tmp_path):
    with pytest.raises(PublishError, match="Brak hurtowni"):
        publish(tmp_path / "nope.duckdb", tmp_path / "published")
    with pytest.raises(PublishError, match="cus publish"):
        connect_published(tmp_path / "published")


def _run_sensor(sensor, instance, run, published_dir):
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
        dagster_event=records[-1].event_log_entry.dagster_event,
        resources={"published": PublishedResource(root=str(published_dir))},
    )
    return sensor(context)


def test_sensor_requests_the_pooled_publish_job_after_a_run_that_wrote_the_warehouse(warehouse, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    wh = WarehouseResource(path=str(warehouse))

    @dg.asset(key=["report", "indicators"], pool="warehouse")
    def indicators(warehouse: WarehouseResource):
        with warehouse.connect() as conn:
            conn.execute("INSERT INTO report.indicators VALUES ('srokowo', '2021Q4', 'persons_covered', 3, 2, 1)")

    @dg.op
    def noop():
        return 1

    @dg.job(name="idle_job")
    def idle_job():
        noop()

    wrote = dg.materialize([indicators], instance=instance, resources={"warehouse": wh})
    idle = idle_job.execute_in_process(instance=instance)
    sensor, _after_failure = build_publish_sensors([])
    published = tmp_path / "published"

    request = _run_sensor(sensor, instance, wrote.dagster_run, published)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"publish-after-{wrote.run_id}"
    # nothing to publish: None, so the daemon's tick goes on to the next finished run (a SkipReason ends it)
    assert _run_sensor(sensor, instance, idle.dagster_run, published) is None

    publish_job = build_publish_job()
    assert publish_job.graph.node_defs[0].pool == "warehouse"  # never reads while a writer runs
    result = publish_job.execute_in_process(run_config=request.run_config, instance=instance,
                                            resources={"warehouse": wh})
    assert result.success
    conn = connect_published(published)
    try:
        assert conn.sql("SELECT count(*) FROM report.indicators").fetchone()[0] == 2
        assert conn.sql("SELECT run_id FROM meta.publication").fetchone()[0] == wrote.run_id
    finally:
        conn.close()
    assert _run_sensor(sensor, instance, result.dagster_run, published) is None  # no loop


def test_report_files_and_status_runs_request_no_publish_and_publish_runs_in_process(tmp_path):
    """The coordinator's chain (issue 15): the reports runs after a batch only READ the warehouse, so
    they request no publish run (each would take the warehouse pool between the reports runs), and
    the publish run does not start a subprocess for its one step."""
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(key=["report", "quarterly_reports"])
    def quarterly_reports():
        return None

    @dg.asset(key=["report", "status"])
    def status():
        return None

    sensor, _after_failure = build_publish_sensors([])
    for asset in (quarterly_reports, status):
        run = dg.materialize([asset], instance=instance)
        assert _run_sensor(sensor, instance, run.dagster_run, tmp_path / "published") is None
    assert build_publish_job().executor_def is dg.in_process_executor


def test_one_daemon_tick_looks_past_runs_that_need_no_publication(tmp_path):
    """Under the daemon a run-status sensor's tick ends at the first run whose evaluation returns
    something: after a burst of report/status/publish runs, the run that changed the warehouse must
    still get its publication in the same tick (it waited 30 s per earlier run before)."""
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(key=["report", "quarterly_reports"])
    def quarterly_reports():
        return None

    @dg.asset(key=["report", "indicators"])
    def indicators():
        return None

    sensor, _after_failure = build_publish_sensors([])
    resources = {"published": PublishedResource(root=str(tmp_path / "published"))}
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources))
    assert first.run_requests == []  # the first tick only places the cursor
    for _ in range(3):
        dg.materialize([quarterly_reports], instance=instance)
    wrote = dg.materialize([indicators], instance=instance)
    tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources))
    assert [r.run_key for r in tick.run_requests] == [f"publish-after-{wrote.run_id}"]


def test_sensor_is_running_by_default_and_described_in_polish_and_english():
    sensor, _after_failure = build_publish_sensors([])
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "Po każdym udanym przebiegu" in sensor.description and "After every successful run" in sensor.description


def test_published_profile_cannot_be_differenced_across_quarters(tmp_path):
    """The reviewer's case: Elbląg homeless 2022Q2 15 (10 K / 5 M), 2022Q3 17 (12/5) — publishing both
    cumulatives reveals 2 women. The copy applies the reports' sequential rule per unit × code."""
    path = tmp_path / "warehouse" / "cus.duckdb"
    path.parent.mkdir(parents=True)
    series = [  # quarter, quarter triple, cumulative triple
        ("2022Q1", (0, 0, 0), (0, 0, 0)),
        ("2022Q2", (15, 10, 5), (15, 10, 5)),
        ("2022Q3", (2, 2, 0), (17, 12, 5)),
        ("2022Q4", (6, 3, 3), (23, 15, 8)),
        ("2023Q1", (7, 5, 2), (30, 20, 10)),
        ("2023Q2", (10, 5, 5), (40, 25, 15)),
    ]
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA report")
        conn.execute("CREATE TABLE report.participant_profile (unit VARCHAR, quarter VARCHAR, code VARCHAR, "
                     "sensitive BOOLEAN, quarter_total BIGINT, quarter_women BIGINT, quarter_men BIGINT, "
                     "cumulative_total BIGINT, cumulative_women BIGINT, cumulative_men BIGINT)")
        for unit, code, sensitive in (("elblag", "HOMELESS", True), ("elblag", "UNEMPLOYED", False),
                                      ("srokowo", "HOMELESS", True)):
            rows = series if unit == "elblag" else series[:3]
            conn.executemany("INSERT INTO report.participant_profile VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [[unit, q, code, sensitive, *qt, *ct] for q, qt, ct in rows])
    result = publish(path, tmp_path / "published")
    conn = connect_published(tmp_path / "published")
    try:
        got = conn.sql("SELECT quarter, quarter_total, quarter_women, quarter_men, cumulative_total, cumulative_women, "
                       "cumulative_men FROM report.participant_profile WHERE unit = 'elblag' AND code = 'HOMELESS' "
                       "ORDER BY quarter").fetchall()
        hidden = (None, None, None)
        assert got == [
            ("2022Q1", 0, 0, 0, 0, 0, 0),
            ("2022Q2", 15, 10, 5, 15, 10, 5),
            ("2022Q3", *hidden, *hidden),            # 17 − 15 = 2 women: hidden, with its quarter value
            ("2022Q4", *hidden, *hidden),            # 23/15/8 − last published 15/10/5 = 8/5/3: hidden
            ("2023Q1", *hidden, 30, 20, 10),         # 15/10/5 since Q2: published; quarter (after a hidden one) not
            ("2023Q2", 10, 5, 5, 40, 25, 15),
        ]
        # a series is one unit × code: Srokowo's own series, the same figures, the same decisions
        assert conn.sql("SELECT quarter, cumulative_total FROM report.participant_profile WHERE unit = 'srokowo' "
                        "ORDER BY quarter").fetchall() == [("2022Q1", 0), ("2022Q2", 15), ("2022Q3", None)]
        # not sensitive: published as computed
        assert conn.sql("SELECT count(*) FROM report.participant_profile WHERE code = 'UNEMPLOYED' "
                        "AND cumulative_total IS NULL").fetchone()[0] == 0
        assert "różnica kwartałów" in conn.sql("SELECT comment FROM duckdb_tables() "
                                               "WHERE table_name = 'participant_profile'").fetchone()[0]
    finally:
        conn.close()
    assert result.row_counts["report.participant_profile"] == 15


def test_persons_of_sensitive_service_areas_are_suppressed_in_the_copy(tmp_path):
    path = tmp_path / "warehouse" / "cus.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA report")
        conn.execute("CREATE TABLE report.services_by_area AS SELECT * FROM (VALUES "
                     "('srokowo', '2021Q1', 6, 3, 2), ('srokowo', '2021Q1', 12, 4, 4), ('srokowo', '2021Q1', 1, 3, 3), "
                     "('srokowo', '2021Q2', 6, 9, 5), ('srokowo', '2021Q2', 12, 0, 0)) "
                     "t(unit, quarter, area, deliveries, persons)")
        conn.execute("CREATE TABLE report.services_by_service AS SELECT 'srokowo' AS unit, '2021Q1' AS quarter, "
                     "'MIESZK' AS service_code, 12 AS area, 4 AS deliveries, 1 AS persons")
    publish(path, tmp_path / "published")
    conn = connect_published(tmp_path / "published")
    try:
        # Srokowo 2021Q1 area 6 (disability support): 2 persons -> NULL; housing 4 -> NULL; area 1 stays;
        # 5 (= threshold) and 0 are published; deliveries are not persons and stay.
        assert conn.sql("SELECT quarter, area, deliveries, persons FROM report.services_by_area "
                        "ORDER BY quarter, area").fetchall() == [
            ("2021Q1", 1, 3, 3), ("2021Q1", 6, 3, None), ("2021Q1", 12, 4, None),
            ("2021Q2", 6, 9, 5), ("2021Q2", 12, 0, 0)]
        assert conn.sql("SELECT persons FROM report.services_by_service").fetchone()[0] is None
        assert "obszarach 6, 12" in conn.sql("SELECT comment FROM duckdb_tables() "
                                             "WHERE table_name = 'services_by_area'").fetchone()[0]
    finally:
        conn.close()


def test_policy_file_holds_every_rule_with_a_reason_and_a_broken_one_is_named(tmp_path):
    """schemas/publish.yaml is the policy; a missing rule is a Polish error naming the file and the rule."""
    import yaml

    from core.privacy import POLICY_PATH, PolicyError, load_policy

    policy = load_policy()
    assert policy.dropped_columns["pesel"] == "PESEL" and policy.withheld("mart", "participant_history")
    assert policy.withheld("report", "participant_profile") is None  # report tables are aggregates
    assert all(reason.strip() for reason in {**policy.dropped_columns, **policy.profile_columns,
                                             **policy.withheld_tables}.values())
    raw = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    del raw["dropped_columns"]
    broken = tmp_path / "publish.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"publish\.yaml: brak reguły `dropped_columns`"):
        load_policy(broken)


def test_relative_paths_resolve_from_the_project_folder(monkeypatch):
    from core.paths import PROJECT_ROOT, project_path, published_dir

    assert project_path("data/x.duckdb") == PROJECT_ROOT / "data" / "x.duckdb"
    assert project_path("/srv/cus.duckdb") == Path("/srv/cus.duckdb")
    monkeypatch.setenv("CUS_PUBLISHED", "elsewhere")
    assert published_dir() == PROJECT_ROOT / "elsewhere" and published_dir("/tmp/p") == Path("/tmp/p")
    monkeypatch.delenv("CUS_PUBLISHED")
    assert published_dir() == PROJECT_ROOT / "data" / "published"
