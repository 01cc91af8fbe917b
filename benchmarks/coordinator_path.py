"""Benchmark: the coordinator's path under the REAL Dagster daemon and webserver (issue 15) — from a
re-sent file copied into the landing folder to rewritten reports.

    .venv/bin/python benchmarks/coordinator_path.py                      # temp folder, prepared from scratch
    .venv/bin/python benchmarks/coordinator_path.py --workdir /tmp/cb   # keep (and reuse) the prepared demo

Prepares the pilot demo in a work folder (`cus sample` with its `resent/` folder, then `cus demo`
into a temp warehouse, reports and published folder, with a DAGSTER_HOME holding the project's
`.dagster_home/dagster.yaml`), starts `dagster-daemon run` and `dagster-webserver` on
`workspace.yaml` with that instance (the settings as `cus ui` passes them: environment, cwd =
DAGSTER_HOME, and its validation service with Great Expectations imported — `--no-service`:
without), waits until the landing sensor ticks, copies the re-sent
`starachowice/2021Q3/wydatki.csv` over the landing file (README "Two commands"; with a reused
work folder whose landing already holds it, the original content goes back instead — the same
chain), and prints seconds from the copy to: the landing sensor's run request, the batch run's
queue/launch/start/step/end, each reports run, every report file of starachowice for 2021Q3 and
every later quarter rewritten, the same with the consolidated reports of those quarters, the published copy refreshed.
Numbers only; every process started here is stopped by its process group in the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNIT = "starachowice"
QUARTER = "2021Q3"
DATASET_FILE = "wydatki.csv"
BIN = Path(sys.executable).parent
FAR = 10**9


def settings(work: Path) -> dict[str, str]:
    from core.settings import DEMO_PSEUDONYM_KEY, KEY_VARIABLE

    return {"CUS_WAREHOUSE": str(work / "warehouse" / "cus.duckdb"), "CUS_LANDING": str(work / "landing"),
            "CUS_REPORTS": str(work / "reports"), "CUS_PUBLISHED": str(work / "published"),
            "DAGSTER_HOME": str(work / "dagster_home"), KEY_VARIABLE: DEMO_PSEUDONYM_KEY,
            "PYTHONPATH": str(ROOT)}


def prepare(work: Path, env: dict[str, str]) -> None:
    """The pilot demo as `make demo` leaves it, in the work folder (skipped when already prepared)."""
    marker = work / "prepared"
    if marker.is_file():
        print(f"przygotowane dane: {work} (ponownie użyte)")
        return
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    for label, command in (("cus sample", ["sample", "--out", env["CUS_LANDING"]]), ("cus demo", ["demo"])):
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "cus"), *command], env=env, cwd=ROOT, check=True,
                       stdout=(work / f"{command[0]}.log").open("w"), stderr=subprocess.STDOUT)
        print(f"przygotowanie: {label} {time.perf_counter() - t0:.0f} s")
    landing_file = work / "landing" / UNIT / QUARTER / DATASET_FILE
    shutil.copy(landing_file, work / f"original_{DATASET_FILE}")
    marker.write_text("ok\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    """A process in its own process group (cwd = DAGSTER_HOME, as `cus ui` starts dagster dev)."""
    log = (logs / f"{name}.log").open("w")
    return subprocess.Popen(command, env=env, cwd=env["DAGSTER_HOME"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def descendants(roots: list[int]) -> dict[int, tuple[str, str]]:
    """pid -> (start time, command line) of the given processes and every process below them (from /proc)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int(process_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in found or pid not in parent:
            continue
        found.add(pid)
        todo.extend(child for child, ppid in parent.items() if ppid == pid)
    out = {}
    for pid in found:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            out[pid] = (process_stat(pid)[19], command[:300])
        except (OSError, IndexError):
            continue
    return out


def process_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, …]; index 19 is the start time."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Watch:
    """Peak RSS of every process below the started ones, sampled while the benchmark polls."""

    def __init__(self, processes: list[subprocess.Popen]):
        self.roots = [p.pid for p in processes]
        self.seen: dict[int, tuple[str, float]] = {}
        self.started: dict[int, str] = {}  # pid -> start time, so a reused pid is never killed

    def sample(self) -> None:
        for pid, (started, command) in descendants(self.roots).items():
            self.started[pid] = started
            rss = peak_rss_mb(pid)
            if rss >= self.seen.get(pid, ("", 0.0))[1]:
                self.seen[pid] = (command, rss)

    def report(self) -> None:
        print("szczyt RSS procesów (MB; procesy robocze przebiegów próbkowane co ~0,5 s):")
        for pid, (command, rss) in sorted(self.seen.items(), key=lambda item: -item[1][1])[:12]:
            print(f"  {rss:7.0f}  pid {pid}: {describe(command)}")


def describe(command: str) -> str:
    for marker in ("dagster-daemon", "dagster-webserver", "api execute_run", "api grpc", "execute_run",
                   "chrom", "grpc"):
        if marker in command:
            return f"{marker} … {command[-60:]}" if marker != command else command
    return command[:100]


def stop(processes: list[subprocess.Popen], watch: Watch | None, grace: float = 10.0) -> None:
    """SIGTERM to each started process group, SIGKILL after the grace period; then SIGKILL to any
    process seen below them that is still alive (run workers may live in other groups)."""
    known = {pid: started for pid, (started, _command) in descendants([p.pid for p in processes]).items()}
    known.update(watch.started if watch else {})
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    for pid, started in known.items():
        try:
            if process_stat(pid)[19] == started:  # the same process, not a reused pid
                os.kill(pid, signal.SIGKILL)
        except (OSError, IndexError):
            pass


def sensor_ticks(instance, name: str, after: float) -> list:
    """The sensor's ticks since `after` (oldest first), from the instance's schedule storage."""
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after, limit=500)
            return sorted(ticks, key=lambda tick: tick.timestamp)
    return []


def webserver_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_ready(instance, port: int, since: float, timeout: float, watch: Watch, processes) -> None:
    """Until the webserver answers and the landing sensor finished a tick started by this daemon."""
    web = None
    while time.time() - since < timeout:
        watch.sample()
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"proces {process.args[0]} zakończył się (kod {process.returncode}) przed startem")
        if web is None and webserver_up(port):
            web = time.time() - since
        ticks = [t for t in sensor_ticks(instance, "landing_sensor", since) if t.end_timestamp]
        if web is not None and ticks:
            print(f"gotowe po {time.time() - since:.1f} s od startu procesów: webserver /server_info {web:.1f} s, "
                  f"pierwszy tick landing_sensor zakończony {ticks[0].end_timestamp - since:.1f} s "
                  f"({ticks[0].status.value}; trwał {ticks[0].end_timestamp - ticks[0].timestamp:.1f} s)")
            return
        time.sleep(0.5)
    raise TimeoutError(f"daemon/webserver nie gotowe po {timeout:.0f} s (brak ticku landing_sensor "
                       f"lub odpowiedzi /server_info)")


def report_files(reports: Path, landing: Path) -> list[Path]:
    """Every report file of the unit and the consolidated report for the quarter and each later one
    with data (what reports_after_batch_sensor must rebuild)."""
    quarters = sorted(d.name for d in (landing / UNIT).iterdir() if d.is_dir() and d.name[:4].isdigit()
                      and d.name >= QUARTER)
    return sorted(path for q in quarters for folder in (UNIT, "zbiorczy")
                  for path in (reports / q / folder).glob("raport_*"))


def unit_files(paths: list[Path]) -> list[Path]:
    """The unit's own report files among `paths` (the coordinator's reports; the rest are consolidated)."""
    return [p for p in paths if p.parent.name == UNIT]


def runs_since(instance, since: float) -> list:
    import dagster as dg

    records = instance.get_run_records(filters=dg.RunsFilter(created_after=_utc(since)), ascending=True)
    return list(records)


def _utc(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)


def fmt(value: float | None, drop: float) -> str:
    return "—" if value is None else f"{value - drop:6.1f}"


def run_timeline(instance, record, drop: float) -> list[str]:
    """One run: created → dequeued → worker started → steps → end, in seconds after the drop."""
    run = record.dagster_run
    events = {}
    steps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        events.setdefault(kind, entry.timestamp)
        if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE") and entry.step_key:
            steps.setdefault(entry.step_key, []).append(entry.timestamp)
    created = record.create_timestamp.timestamp()
    partition = run.tags.get("dagster/partition", "")
    after = run.tags.get("cus/after_run", "")[:8]
    lines = [f"  {run.job_name} {partition} [{run.status.value}] {run.run_id[:8]}"
             + (f" po {after}" if after else "")
             + f": utworzony {fmt(created, drop)}, uruchamiany (z kolejki) {fmt(events.get('PIPELINE_STARTING'), drop)}, "
             f"start w procesie roboczym {fmt(events.get('PIPELINE_START'), drop)}, koniec {fmt(record.end_time, drop)}"]
    for step, stamps in steps.items():
        lines.append(f"      krok {step}: {fmt(stamps[0], drop)} → {fmt(stamps[-1], drop)} "
                     f"({stamps[-1] - stamps[0]:.1f} s)")
    return lines


def choose_drop(work: Path) -> Path:
    """The re-sent file; if the landing file already holds it (a reused work folder), the original."""
    landing_file = work / "landing" / UNIT / QUARTER / DATASET_FILE
    resent = work / "resent" / UNIT / QUARTER / DATASET_FILE
    return resent if landing_file.read_bytes() != resent.read_bytes() else work / f"original_{DATASET_FILE}"


IN_FLIGHT = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def measure(instance, work: Path, timeout: float, watch: Watch, processes) -> bool:
    landing, reports = work / "landing", work / "reports"
    published = work / "published" / "current.duckdb"
    expected = report_files(reports, landing)
    source = choose_drop(work)
    drop = time.time()
    shutil.copy(source, landing / UNIT / QUARTER / DATASET_FILE)
    print(f"upuszczono {source.relative_to(work)} → landing/{UNIT}/{QUARTER}/{DATASET_FILE}; "
          f"oczekiwane raporty do przepisania: {len(expected)} plików")
    marks: dict[str, float] = {}
    ok = False
    while True:
        now = time.time()
        watch.sample()
        records = runs_since(instance, drop - 1)
        fresh = [p for p in expected if p.is_file() and p.stat().st_mtime > drop]
        own = unit_files(expected)
        if all(p in fresh for p in own) and "jednostka" not in marks:  # the coordinator's own reports
            marks["jednostka"] = max(p.stat().st_mtime for p in own)
        if len(fresh) == len(expected) and "raporty" not in marks:
            marks["raporty"] = max(p.stat().st_mtime for p in expected)
        batch = next((r.dagster_run.run_id for r in records if r.dagster_run.job_name == "ingest_batch_job"), None)
        published_after = [r for r in records if r.dagster_run.job_name == "publish_job" and batch
                           and r.dagster_run.tags.get("cus/after_run") == batch and r.dagster_run.status.value == "SUCCESS"]
        if published_after and published.is_file() and "kopia" not in marks:  # the copy made after the batch
            marks["kopia"] = published_after[0].end_time
        in_flight = [r for r in records if r.dagster_run.status.value in IN_FLIGHT]
        failed = [r for r in records if r.dagster_run.status.value in ("FAILURE", "CANCELED")]
        if failed:
            print("PRZEBIEG NIEUDANY:", ", ".join(f"{r.dagster_run.job_name} {r.dagster_run.run_id[:8]}" for r in failed))
            break
        if "raporty" in marks and not in_flight and ("kopia" in marks or now - marks["raporty"] > 60):
            ok = True
            break
        if now - drop > timeout:
            print(f"PRZEKROCZONO LIMIT {timeout:.0f} s: przepisane raporty {len(fresh)}/{len(expected)}; "
                  f"przebiegi w toku: " + (", ".join(f"{r.dagster_run.job_name} {r.dagster_run.run_id[:8]} "
                                                     f"[{r.dagster_run.status.value}]" for r in in_flight) or "brak"))
            missing = [str(p.relative_to(reports)) for p in expected if p not in fresh]
            print("  nieprzepisane: " + ", ".join(missing[:12]) + (" …" if len(missing) > 12 else ""))
            break
        time.sleep(0.5)
    summarize(instance, drop, marks, runs_since(instance, drop - 1))
    return ok


def summarize(instance, drop: float, marks: dict[str, float], records) -> None:
    landing_ticks = sensor_ticks(instance, "landing_sensor", drop - 30)
    requesting = [t for t in landing_ticks if t.run_ids and t.timestamp >= drop - 6]
    gaps = [b.timestamp - a.timestamp for a, b in zip(landing_ticks, landing_ticks[1:], strict=False)]
    print("\nsekundy od upuszczenia pliku:")
    if requesting:
        tick = requesting[0]
        print(f"  landing_sensor: tick z żądaniem przebiegu {fmt(tick.timestamp, drop)} → {fmt(tick.end_timestamp, drop)} "
              f"(ticki co {sum(gaps) / max(len(gaps), 1):.1f} s średnio, {len(landing_ticks)} ticków w oknie)")
    else:
        print("  landing_sensor: brak ticku z żądaniem przebiegu")
    for tick in sensor_ticks(instance, "reports_after_batch_sensor", drop):
        if tick.run_ids:
            print(f"  reports_after_batch_sensor: tick z {len(tick.run_ids)} żądaniami {fmt(tick.timestamp, drop)} → "
                  f"{fmt(tick.end_timestamp, drop)}")
    print("  przebiegi:")
    for record in records:
        for line in run_timeline(instance, record, drop):
            print(line)
    print(f"  raporty {UNIT} od {QUARTER} przepisane: {fmt(marks.get('jednostka'), drop)}")
    print(f"  wszystkie raporty {UNIT} i zbiorcze od {QUARTER} przepisane: {fmt(marks.get('raporty'), drop)}"
          + ("  (cel ≤ 30 s)" if marks.get("raporty") else ""))
    print(f"  kopia do SQL (published/current.duckdb) odświeżona po przebiegu wczytania: {fmt(marks.get('kopia'), drop)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="folder roboczy (istniejący i przygotowany = ponownie użyty); domyślnie tymczasowy")
    parser.add_argument("--timeout", type=float, default=600, help="limit od upuszczenia pliku (s)")
    parser.add_argument("--keep", action="store_true", help="nie usuwaj tymczasowego folderu roboczego")
    parser.add_argument("--no-service", action="store_true",
                        help="bez procesu walidacji, który uruchamia cus ui (każdy przebieg importuje Great Expectations)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cus-coordinator-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings(work)}
    print(f"obciążenie na starcie (loadavg 1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"rdzenie: {os.cpu_count()}")
    prepare(work, env)
    # the instance configuration measured is always the project's current one
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    os.environ.update(settings(work))  # this process reads the same instance
    import dagster as dg

    instance = dg.DagsterInstance.get()
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    port = free_port()
    workspace = str(ROOT / "workspace.yaml")
    processes: list[subprocess.Popen] = []
    watch = None
    ok = False
    try:
        if not args.no_service:  # as `cus ui` does: GX imported once for every run (validation_service.py)
            from assets.staging.validation_service import start_service

            env = {**env, **start_service()}
        since = time.time()
        processes.append(start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", workspace], env, logs))
        processes.append(start("webserver", [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1",
                                             "-p", str(port)], env, logs))
        watch = Watch(processes)
        wait_ready(instance, port, since, 300, watch, processes)
        ok = measure(instance, work, args.timeout, watch, processes)
        watch.report()
    finally:
        stop(processes, watch)
        print(f"procesy zatrzymane; logi: {logs}")
        print(f"obciążenie na końcu (loadavg 1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if not args.workdir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
