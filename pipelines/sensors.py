"""Sensors: the landing sensor (new or changed files in data/landing start ingestion of their
partition), the indicators sensor and the publish sensor (a fresh SQL copy after a successful run)."""


import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from assets.partition_keys import unit_quarter_key
from assets.report.rebuild_scope import changed_by_partition, quarters_to_report
from assets.report.report_files import REPORT_FILES_KEY
from assets.report.status_asset import STATUS_KEY
from core.landing import AGREEMENT_FOLDER, scan_landing
from core.quarters import quarter_to_partition_key
from core.registry import Unit
from core.resources import LandingResource, PublishedResource, WarehouseResource
from core.warehouse import table_exists
from pipelines.batch import BATCH_REPORTS_OP
from pipelines.jobs import PUBLISH_OP, build_publish_job
from pipelines.partitions import partition_range_tags


def landing_files(root: Path, units: tuple[Unit, ...], problems: list[str] | None = None) -> dict:
    """relative path -> (unit, quarter or None, dataset) for every contract file that has landed.

    The scan is core/landing.py's: every other entry under the root (a file at the unit root, an
    unknown name or extension, a misnamed folder or one outside the period) goes to `problems` as
    "<path>: <problem> Co zrobić: <fix>" (the sensor logs them and shows them in its tick)."""
    scan = scan_landing(root, units)
    if problems is not None:
        problems.extend(p.message for p in scan.problems)
    return scan.files


def loaded_versions(warehouse_file: Path) -> dict[str, str]:
    """source_file -> SHA-256 of the current version of every landing file already in the warehouse
    (read-only; an absent warehouse has none; a warehouse locked by a writer raises IOException)."""
    if not Path(warehouse_file).is_file():
        return {}
    with duckdb.connect(str(warehouse_file), read_only=True) as conn:
        if not table_exists(conn, "raw", "file_versions"):
            return {}
        return dict(conn.execute("SELECT source_file, file_sha256 FROM raw.file_versions WHERE is_current").fetchall())


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# The landing check is cheap (file sizes and times; a hash only of a file whose size or time
# changed), so the coordinator's correction is picked up within seconds of the copy. Dagster's
# sensor daemon evaluates sensors in a loop of 5 s (dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME);
# a minimum interval of 5 s made about every other loop skip the sensor (a tick every ~9 s
# measured), 2 s lets it tick on every loop: a file is seen 2,5 s after it lands on average.
LANDING_INTERVAL_S = 2


def build_landing_sensor(units: tuple[Unit, ...], batch_job) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        jobs=[batch_job],
        minimum_interval_seconds=LANDING_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Co 5 sekund sprawdza data/landing/: nowe lub zmienione pliki (także wiele jednostek i kwartałów naraz) "
            "uruchamiają JEDEN przebieg ingest_batch_job, który je wczytuje, waliduje i przelicza wskaźniki; "
            "pliki już wczytane w tej samej treści (np. przez `cus run`) są pomijane."
        ),
    )
    def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource, warehouse: WarehouseResource):
        seen: dict[str, list[str]] = json.loads(context.cursor) if context.cursor else {}
        root = landing.folder
        try:
            loaded = loaded_versions(warehouse.file)
        except (duckdb.IOException, duckdb.ConnectionException):
            yield dg.SkipReason("hurtownia zajęta przez zapis — sprawdzę przy następnym cyklu")
            return
        requested: set[tuple[str, str | None]] = set()
        problems: list[str] = []
        for relative, (unit, quarter, _dataset) in landing_files(root, units, problems).items():
            path = root / relative
            fingerprint = _fingerprint(path)
            previous = seen.get(relative)
            if previous and previous[0] == fingerprint:
                continue
            digest = _content_hash(path)
            seen[relative] = [fingerprint, digest]
            if previous and previous[1] == digest:
                continue
            if loaded.get(relative, "").startswith(digest):
                continue  # this content is already the current version in the warehouse (e.g. loaded by `cus run`)
            requested.add((unit, quarter))
        for problem in problems:
            context.log.warning(problem)
        if problems and not requested:
            yield dg.SkipReason(skip_reason_with_problems(problems))
        if requested:
            keys = sorted(unit_quarter_key(unit, quarter) for unit, quarter in requested)
            state = hashlib.sha256("|".join(_state(seen, u, q) for u, q in sorted(
                requested, key=lambda item: (item[0], item[1] or ""))).encode()).hexdigest()[:16]
            yield dg.RunRequest(job_name=batch_job.name, run_key=f"batch:{state}",
                                run_config={"ops": {"ingest_batch": {"config": {"partitions": keys}},
                                                    BATCH_REPORTS_OP: {"config": {"with_reports": True}}}},
                                tags={"cus/partitions": str(len(keys))})
        context.update_cursor(json.dumps(seen, sort_keys=True))

    return landing_sensor


def skip_reason_with_problems(problems: list[str]) -> str:
    """The tick's text when nothing new landed but some entries are not read (shown in the UI)."""
    shown = problems[:20]
    more = f"\n… i {len(problems) - len(shown)} więcej" if len(problems) > len(shown) else ""
    return (f"Brak nowych plików do wczytania. Pominięte wpisy w folderze przyjęć ({len(problems)}):\n"
            + "\n".join(f"- {p}" for p in shown) + more)


def _state(seen: dict[str, list[str]], unit: str, quarter: str | None) -> str:
    """A digest of the partition's files (content and write time): the same files never start a
    second run, and going back to an earlier content (v1 → v2 → v1) is a new state."""
    prefix = f"{unit}/{quarter or AGREEMENT_FOLDER}/"
    parts = sorted(f"{path}={value[0]}:{value[1]}" for path, value in seen.items() if path.startswith(prefix))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


INGEST_JOBS = ("ingest_quarter_job", "ingest_agreement_job")
IN_FLIGHT = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED)


def ingest_runs_in_flight(instance: dg.DagsterInstance) -> list[str]:
    """Run ids of ingest runs still queued or running."""
    return [run.run_id for job in INGEST_JOBS
            for run in instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=list(IN_FLIGHT)))]


def build_indicators_sensor(ingest_jobs: list, indicators_job) -> dg.SensorDefinition:
    """After files landed and were ingested (landing_sensor → ingest runs), rebuild the marts and
    indicators once per burst: the last ingest run of a burst to succeed requests indicators_job."""

    @dg.run_status_sensor(
        name="indicators_after_ingest_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=ingest_jobs,
        request_job=indicators_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Po udanym wczytaniu plików (ingest_quarter_job, ingest_agreement_job) zleca przeliczenie hurtowni "
            "i wskaźników (indicators_job) — raz na serię: czeka, aż skończą się pozostałe wczytania w kolejce. "
            "After successful ingest runs, rebuilds the marts and indicators once the last queued ingest finished."
        ),
    )
    def indicators_after_ingest_sensor(context: dg.RunStatusSensorContext):
        pending = [r for r in ingest_runs_in_flight(context.instance) if r != context.dagster_run.run_id]
        if pending:
            return dg.SkipReason(f"czekam na {len(pending)} wczytań w toku / waiting for {len(pending)} ingest runs")
        return dg.RunRequest(run_key=f"indicators-after-{context.dagster_run.run_id}",
                             tags={"cus/after_run": context.dagster_run.run_id})

    return indicators_after_ingest_sensor


WAREHOUSE_PREFIXES = ("raw", "staging", "mart", "report")
REPORT_FILES_OP = "__".join(REPORT_FILES_KEY.path)
# Assets under report/ that only READ the warehouse (report files, the status grid): a run of them
# leaves the published copy current, so it requests no publish run (which would also wait for the
# warehouse pool between the coordinator's reports runs).
READS_WAREHOUSE_ONLY = (REPORT_FILES_KEY, STATUS_KEY)


def materializations(instance, run_id: str) -> list[tuple[dg.AssetKey, str | None]]:
    """(asset key, partition) of every materialization the run recorded."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    events = [record.event_log_entry.dagster_event for record in records]
    return [(event.asset_key, event.partition) for event in events if event is not None and event.asset_key]


def run_changed_warehouse(instance, run_id: str) -> bool:
    """Did the run materialize any warehouse asset (key starting with a layer name)?"""
    return any(key.path and key.path[0] in WAREHOUSE_PREFIXES and key not in READS_WAREHOUSE_ONLY
               for key, _ in materializations(instance, run_id))


def build_publish_sensors(jobs: list, publish_job: dg.JobDefinition | None = None) -> list:
    """`publish_sensor`: after every successful run in this code location that materialized a
    warehouse asset (jobs below, or assets materialized from the UI), request `publish_job`;
    `publish_after_failure_sensor` does the same after a failed run that still committed data (a
    batch with a refused file: the other partitions are written; a batch whose reports step failed)."""
    publish_job = publish_job or build_publish_job()
    job_names = ", ".join(getattr(j, "name", str(j)) for j in jobs) or "—"

    def publish_after(context: dg.RunStatusSensorContext, published: PublishedResource):
        # A run that needs no publication returns None, not a SkipReason: Dagster ends a run-status
        # sensor's tick at the first run whose evaluation returns something, so a SkipReason per
        # publish/report/status run would hold the next real publication back a whole interval per run.
        run = context.dagster_run
        if run.job_name == publish_job.name:
            context.log.info("przebieg publikacji / the publish run itself")
            return None
        if not run_changed_warehouse(context.instance, run.run_id):
            context.log.info(f"przebieg {run.run_id[:8]} nie zmienił hurtowni / run did not change the warehouse")
            return None
        return dg.RunRequest(
            run_key=f"publish-after-{run.run_id}",
            run_config={"ops": {PUBLISH_OP: {"config": {
                "published_dir": str(published.folder), "trigger_run_id": run.run_id}}}},
            tags={"cus/after_run": run.run_id, "cus/after_job": run.job_name},
        )

    sensors = []
    for name, status, when, english in (
            ("publish_sensor", dg.DagsterRunStatus.SUCCESS,
             "Po każdym udanym przebiegu, który zmienił hurtownię", "After every successful run"),
            ("publish_after_failure_sensor", dg.DagsterRunStatus.FAILURE,
             "Po przebiegu zakończonym błędem, który mimo to zapisał dane (np. wczytanie z odrzuconym plikiem: "
             "pozostałe partycje są zapisane; wczytanie, którego krok raportów się nie udał)",
             "After a failed run that still committed data")):
        sensors.append(dg.run_status_sensor(
            name=name,
            run_status=status,
            request_job=publish_job,
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=LANDING_INTERVAL_S,  # the SQL copy follows a correction within seconds
            description=(
                f"{when}, zleca publish_job: nowa kopia data/published/current.duckdb do zapytań SQL (cus sql) bez "
                f"danych osobowych. {english} that changed the warehouse (jobs: {job_names}, or assets "
                "materialized from the UI), publishes the read-only copy for ad hoc SQL."
            ),
        )(publish_after))
    return sensors


def changed_quarters(instance, run_id: str) -> dict[str, list[str]]:
    """unit -> quarters (`2021Q3`) whose staging partitions the run materialized (agreement files:
    every quarter of the unit, since budgets and catalogues feed every quarter's figures)."""
    return changed_by_partition({partition for key, partition in materializations(instance, run_id)
                                 if key.path[0] == "staging" and partition})


def build_reports_after_batch_sensor(batch_job, reports_job, units: tuple[Unit, ...]) -> list[dg.SensorDefinition]:
    """The coordinator's path when a batch did not write its reports itself: a batch launched from
    the Launchpad without `batch_reports.with_reports` (`reports_after_batch_sensor`), or one that
    failed after committing — a refused file fails the run, the other partitions are written
    (`reports_after_failed_batch_sensor`) — requests the reports of the changed quarters and of
    every later quarter with data (the changed units' and the consolidated ones)."""

    def reports_after(context: dg.RunStatusSensorContext, landing: LandingResource):
        # None, not a SkipReason, for a run that needs nothing: a run-status sensor's tick ends at the
        # first run whose evaluation returns something (see publish_sensor).
        run = context.dagster_run
        if any(key == REPORT_FILES_KEY for key, _ in materializations(context.instance, run.run_id)):
            context.log.info(f"przebieg {run.run_id[:8]} napisał raporty sam (batch_reports)")
            return None
        changed = changed_quarters(context.instance, run.run_id)
        quarters = quarters_to_report(changed, units, landing.folder)
        if not quarters:
            context.log.info(f"przebieg {run.run_id[:8]} nie zmienił żadnego kwartału — raporty bez zmian")
            return None
        return reports_request(quarters, sorted(changed), run)

    sensors = []
    for name, status, when in (
            ("reports_after_batch_sensor", dg.DagsterRunStatus.SUCCESS,
             "Po udanym wczytaniu plików (ingest_batch_job), które nie napisało raportów samo (przebieg z "
             "Launchpada bez batch_reports.with_reports)"),
            ("reports_after_failed_batch_sensor", dg.DagsterRunStatus.FAILURE,
             "Po wczytaniu zakończonym błędem, które mimo to zapisało partycje (np. jeden plik odrzucony), "
             "zanim doszło do raportów")):
        sensors.append(dg.run_status_sensor(
            name=name,
            run_status=status,
            monitored_jobs=[batch_job],
            request_job=reports_job,
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=LANDING_INTERVAL_S,
            description=(
                f"{when}, zleca JEDEN przebieg raportów kwartalnych (reports_job) dla kwartału, którego dotyczył "
                "plik, i każdego późniejszego kwartału z danymi — wartości narastające zmieniają się po korekcie; "
                "przepisuje raporty zmienionych jednostek i raporty zbiorcze. Przebieg raportów ma znacznik "
                "cus/after_run z identyfikatorem przebiegu wczytania."
            ),
        )(reports_after))
    return sensors


def reports_run(quarters: list[str], rewrite_units: list[str] | None) -> tuple[str | None, dict, dict]:
    """(partition key or None, tags, run config) of ONE reports run over the quarters first..last (a
    partition range: one process, one browser, one slot of the warehouse pool, instead of a run per
    quarter each paying the start-up and queueing for the pool), rewriting `rewrite_units`' reports
    (None: every unit's) and the consolidated ones."""
    first, last = quarter_to_partition_key(quarters[0]), quarter_to_partition_key(quarters[-1])
    config = {"ops": {REPORT_FILES_OP: {"config": {"rewrite_units": rewrite_units}}}} if rewrite_units else {}
    return (first if first == last else None), partition_range_tags(first, last), config


def reports_request(quarters: list[str], changed_units: list[str], run) -> dg.RunRequest:
    """The reports run after `run` (see `reports_run`): the changed units' reports and the consolidated
    ones (the other units' did not change)."""
    partition_key, range_tags, run_config = reports_run(quarters, changed_units)
    # dagster/priority: when the warehouse slot frees, the reports go before a publish run queued meanwhile
    tags = {"cus/after_run": run.run_id, "cus/after_job": run.job_name, "cus/trigger": "korekta pliku",
            "dagster/priority": "1"}
    return dg.RunRequest(run_key=f"reports-{quarters[0]}-{quarters[-1]}-after-{run.run_id}",
                         partition_key=partition_key, run_config=run_config, tags={**tags, **range_tags})
