"""Great Expectations in the batch's worker process (assets/staging/validation_process.py): the same
outcomes as in the calling process, a worker that never outlives its parent nor holds it at exit, and
the calling process taking over when it dies. Each case runs in a fresh interpreter: whether GX is
already imported depends on what the test process did."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "GX_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"}

VALIDATE = """
from datetime import date
from test_validation import CHECKED_AT, ELBLAG, raw_frame
from assets.staging import validation_process
from assets.staging.validate import validate_partition
from core.contract import dataset

ok = {"document_no": "FV/1", "issuer_nip": "5260001246", "issue_date": "02.08.2021", "task_no": "1",
      "cost_category": "3.1", "item_name": "Usługa", "gross_amount": "123,00", "net_amount": "100,00",
      "eligible_amount": "123,00", "vat_amount": "23,00"}
rows = [ok, {**ok, "document_no": "FV/2", "task_no": "9"}, {**ok, "document_no": "FV/3", "gross_amount": "1,00"},
        {**ok, "document_no": "FV/4", "issue_date": "31.02.2021"}]

def validate():
    result = validate_partition(dataset("expenses"), raw_frame("expenses", rows), ELBLAG, "2021Q3",
                                {"documents_other_quarters": [], "budget_tasks": [1]}, today=date(2021, 10, 5),
                                checked_at=CHECKED_AT)
    return (result.accepted.to_dicts(), result.quarantine.to_dicts(),
            [(r.rule.id, r.passed, r.failing_rows, r.checked_rows) for r in result.results])
"""


def run_python(code: str, timeout: int = 120) -> str:
    done = subprocess.run([sys.executable, "-c", VALIDATE + code], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# `elsewhere` = the outcomes of the worker or the service; then the same validation in this process
SAME_AS_HERE = """
validation_process.stop_validation_process()
here = validate()
assert "great_expectations" in sys.modules
assert elsewhere == here, (elsewhere, here)
accepted, quarantine, results = here
print(sorted(r["document_no"] for r in accepted), sorted({r["rule"] for r in quarantine}))
"""


def _found_the_bad_rows(out: str) -> None:
    accepted, rules = out.strip().split("] [")
    assert accepted == "['FV/1'"
    assert "task_in_budget" in rules and "eligible_le_gross" in rules  # the suite did find the bad rows


def test_the_worker_process_validates_as_the_calling_process_does():
    _found_the_bad_rows(run_python("""
import sys
validation_process.start_validation_process()
elsewhere = validate()
assert "great_expectations" not in sys.modules  # the worker ran the suite, not this process
""" + SAME_AS_HERE))


LOST_WARNING = ("WARNING Proces walidacji (Great Expectations) zakończył się nieoczekiwanie — walidacja w procesie "
                "przebiegu (wolniej o import Great Expectations).")


def _dies_and_is_replaced_with_one_warning(start: str, process: str) -> None:
    """After `start`, a validation in `process` (the worker or the service); then `process` gets SIGKILL and
    the next validation runs in the calling process, the same, with one warning."""
    out = run_python(start + """
import logging, os, signal, sys
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
validation_process.start_validation_process()
expected = validate()
""" + process + """
os.kill(process.pid, signal.SIGKILL)
process.join(10)
assert validate() == expected
assert validation_process._process is None and "great_expectations" in sys.modules
""")
    assert [line for line in out.splitlines() if line.startswith("WARNING")] == [LOST_WARNING]


def test_a_dead_worker_is_replaced_by_the_calling_process_with_a_warning():
    _dies_and_is_replaced_with_one_warning("", "(process,) = validation_process._process._processes.values()")


def test_suites_pending_in_a_worker_that_dies_are_run_here_with_one_warning():
    """A batch submits every dataset's suite before it waits for the first one: all of them come back."""
    out = run_python("""
import logging, os, signal, sys, time
import polars as pl
from assets.staging.rules import rules_for
from assets.staging.validate import _gx_columns
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
rules = [r for r in rules_for(dataset("milestones")) if r.level == "row"]
columns = _gx_columns(rules)
frame = pl.DataFrame({"row_number": [0, 1]}).with_columns(
    [pl.lit(None, dtype=pl.Boolean).alias(c) for c in columns if c != "chk__first_copy"]
    + [pl.Series("chk__first_copy", [True, False])])
validation_process.start_validation_process()
expected = validation_process.submit_frame("milestones__row", rules, frame, columns)()
(worker,) = validation_process._process._processes.values()
validation_process._process.submit(time.sleep, 60)  # busy: the suites below wait in its queue
pending = [validation_process.submit_frame("milestones__row", rules, frame, columns) for _ in range(3)]
os.kill(worker.pid, signal.SIGKILL)
worker.join(10)
assert [p() for p in pending] == [expected] * 3
assert validation_process._process is None and "great_expectations" in sys.modules
print("failed rows", sorted({row for o in expected for row in o.unexpected_rows}))
""")
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("WARNING")] == [LOST_WARNING]
    assert lines[-1] == "failed rows [1]"  # the suite did run: the repeated row failed


def test_the_worker_ends_with_its_parent_killed_by_sigkill():
    _ends_with_its_parent_killed("""
from assets.staging import validation_process
validation_process.start_validation_process()
(worker,) = validation_process._process._processes.values()
print(worker.pid, flush=True)
""")


def _ends_with_its_parent_killed(start_child: str) -> str:
    """`start_child` prints the pid of the process it starts (and anything after it on the line, returned);
    its parent then gets SIGKILL (like `kill -9` of a run or of `cus ui`: no one shuts the child down) and
    the child must end by itself."""
    parent = subprocess.Popen([sys.executable, "-c", start_child + "\nimport time\ntime.sleep(120)\n"], cwd=ROOT,
                              env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        first, _, rest = parent.stdout.readline().strip().partition(" ")
        child = int(first)
        os.kill(child, 0)  # running
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        parent.kill()
    return rest


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_a_small_batch_validates_in_the_worker_a_large_one_in_its_own_process(tmp_path, monkeypatch):
    """The choice `ingest_batch` makes (a large batch: no second copy of its largest chunk in a worker)."""
    import duckdb

    from assets.batch import ingest
    from assets.batch.plan import BatchPlan
    from core.registry import load_units

    calls = []
    monkeypatch.setattr(ingest, "start_validation_process", lambda: calls.append("worker"))
    monkeypatch.setattr(ingest, "stop_validation_process", lambda: calls.append("stop worker"))
    monkeypatch.setattr(ingest, "prepare_in_background", lambda: calls.append("GX here"))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ingest.ingest_batch(conn, BatchPlan([], [], {}), tmp_path, tuple(load_units()), b"key")
        assert calls == ["worker"]
        monkeypatch.setattr(ingest, "READ_AHEAD_FROM_BYTES", 0)  # every batch counts as large
        calls.clear()
        ingest.ingest_batch(conn, BatchPlan([], [], {}), tmp_path, tuple(load_units()), b"key")
        assert calls == ["stop worker", "GX here"]


def test_the_process_exit_kills_the_worker_instead_of_waiting_for_its_import():
    """Without it, the pool's exit handler waits until the worker has imported GX (~2 s after a run that
    found nothing to validate) or finished its suite (after Ctrl-C, which the worker ignores)."""
    out = subprocess.run([sys.executable, "-c", """
import atexit
from assets.staging import validation_process
validation_process.start_validation_process()
(worker,) = validation_process._process._processes.values()
atexit.register(lambda: print("worker exit code", worker.exitcode, flush=True))  # runs after the pool's handler
"""], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == f"worker exit code {-signal.SIGKILL}"


def _child_validates() -> None:
    """A process started by multiprocessing (as the code server starts a Dagster daemon run) that validates
    in the worker."""
    namespace: dict = {}
    exec(VALIDATE, namespace)  # noqa: S102 — the fixture code above
    namespace["validation_process"].start_validation_process()
    namespace["validate"]()
    if os.environ.get("CUS_VALIDATION_SERVICE"):  # the service's client, not a worker of its own
        from assets.staging import validation_service

        assert isinstance(namespace["validation_process"]._process, validation_service.ServiceClient)


def test_a_multiprocessing_child_that_used_the_worker_exits():
    """Such a process joins its children before the exit handlers that threading runs: the worker must be
    stopped by multiprocessing's own finalizers, or the run's process never ends."""
    _child_that_validated_exits("import multiprocessing\n")


def _child_that_validated_exits(start: str) -> None:
    """After `start`, a multiprocessing child validates (`_child_validates`) and must then end."""
    out = subprocess.run([sys.executable, "-c", start + """
from test_validation_process import _child_validates
child = multiprocessing.get_context("spawn").Process(target=_child_validates)
child.start()
child.join(60)
print("exit code", child.exitcode)
if child.exitcode is None:
    child.kill()
"""], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "exit code 0", out.stderr[-3000:]


def test_a_batch_validated_in_the_worker_writes_what_a_batch_validated_here_writes(tmp_path):
    from conftest import small_sample

    from assets.batch.ingest import CHUNK_BYTES

    small_sample(tmp_path, {"elblag": ["umowa", "2021Q3", "2021Q4"], "starachowice": ["umowa", "2021Q3"]})
    out = run_python(f"""
import sys
from datetime import date, datetime
from pathlib import Path
import duckdb
from assets.batch.ingest import ingest_batch
from assets.batch.plan import plan_batch
from core.registry import load_units

landing, units = Path({str(tmp_path / "landing")!r}), tuple(load_units())
TABLES = {{"deliveries": "*", "expenses": "*", "participants": "*",
          "quarantine": "unit, quarter, dataset, row_number, column_name, rule, severity, message, value",
          "validation_summary": "unit, quarter, dataset, received, accepted, quarantined, warnings"}}

def warehouse(name):
    with duckdb.connect({str(tmp_path)!r} + "/" + name) as conn:
        ingest_batch(conn, plan_batch(conn, landing, units), landing, units, b"key", today=date(2024, 1, 10),
                     loaded_at=datetime(2024, 1, 10, 8))
        return {{table: conn.sql(f"SELECT {{columns}} FROM staging.{{table}} ORDER BY ALL").fetchall()
                for table, columns in TABLES.items()}}

from assets.staging.suites import import_gx
import assets.batch.ingest as batch_ingest

in_worker = warehouse("worker.duckdb")
assert validation_process._process is not None and "great_expectations" not in sys.modules
batch_ingest.CHUNK_BYTES = 1  # a pass per unit: the passes wait for the worker while the next ones load
assert warehouse("worker_passes.duckdb") == in_worker
batch_ingest.CHUNK_BYTES = {CHUNK_BYTES}
validation_process.stop_validation_process()
import_gx()  # GX loaded here: the next batch validates in this process
here = warehouse("here.duckdb")
assert validation_process._process is None
assert in_worker == here
print({{table: len(rows) for table, rows in here.items()}})
""")
    counts = eval(out.strip().splitlines()[-1])  # noqa: S307 — the dict printed above
    assert counts["deliveries"] > 100 and counts["participants"] > 10, counts
    assert counts["quarantine"] > 0  # the sample data's planted errors went through both paths


def test_a_failing_pass_rolls_the_batch_back_and_leaves_no_suite_queued(tmp_path):
    """A pass whose validation fails while other passes' suites wait in the worker: nothing is written,
    the worker (still busy with them) is stopped, and the next batch starts a new one and is right."""
    from conftest import small_sample

    small_sample(tmp_path, {"elblag": ["umowa", "2021Q3", "2021Q4"]})
    out = run_python(f"""
from datetime import date, datetime
from pathlib import Path
import duckdb
from assets.batch.ingest import ingest_batch
from assets.batch.plan import plan_batch
from assets.staging import validate as validate_module
from core.registry import load_units

landing, units = Path({str(tmp_path / "landing")!r}), tuple(load_units())

def batch(conn):
    return ingest_batch(conn, plan_batch(conn, landing, units), landing, units, b"key", today=date(2024, 1, 10),
                        loaded_at=datetime(2024, 1, 10, 8))

finish = validate_module.PendingBatch.finish
def failing(self):
    if self.dataset.name == "participants":  # the first pass: the others are queued behind it by then
        raise RuntimeError("validation failed")
    return finish(self)

with duckdb.connect({str(tmp_path / "w.duckdb")!r}) as conn:
    validate_module.PendingBatch.finish = failing
    try:
        batch(conn)
    except RuntimeError as error:
        print("raised", error)
    validate_module.PendingBatch.finish = finish
    assert validation_process._process is None  # stopped: its queued suites are gone with it
    print("rows after the failure", conn.sql("SELECT (SELECT count(*) FROM raw.participants) "
                                             "+ (SELECT count(*) FROM staging.budget) "
                                             "+ (SELECT count(*) FROM raw.file_versions)").fetchone()[0])
    result = batch(conn)
    assert validation_process._process is not None  # the next batch validated in a new worker
    print("rows after the next batch", conn.sql("SELECT count(*) FROM staging.participants").fetchone()[0],
          len(result.validations))
""")
    lines = out.strip().splitlines()
    assert lines[0] == "raised validation failed"
    assert lines[1] == "rows after the failure 0"
    participants, validations = map(int, lines[2].removeprefix("rows after the next batch ").split())
    assert participants > 10 and validations >= 8


SERVICE = """
import multiprocessing, os, sys
from assets.staging import validation_service
os.environ.update(validation_service.start_service())  # what `cus ui` passes to dagster dev
(service,) = [p for p in multiprocessing.active_children() if p.name == "cus-validation-service"]
"""


def test_a_run_of_the_ui_validates_in_the_service_of_cus_ui_as_the_calling_process_does():
    _found_the_bad_rows(run_python(SERVICE + """
validation_process.start_validation_process()
assert isinstance(validation_process._process, validation_service.ServiceClient)  # no worker of its own
elsewhere = validate()
assert "great_expectations" not in sys.modules
validation_process.stop_validation_process()
validation_process.start_validation_process()  # the next batch of the process connects again
assert validate() == elsewhere
""" + SAME_AS_HERE))


def test_a_dead_service_is_replaced_by_the_calling_process_with_a_warning():
    _dies_and_is_replaced_with_one_warning(SERVICE, "process = service")


def test_without_an_answering_service_a_run_starts_its_own_worker():
    out = run_python("""
import os
os.environ.update({"CUS_VALIDATION_SERVICE": "/nonexistent/gx.sock", "CUS_VALIDATION_SERVICE_KEY": "00"})
validation_process.start_validation_process()
print(type(validation_process._process).__name__)
""")
    assert out.strip() == "ProcessPoolExecutor"


def test_the_service_ends_with_cus_ui_killed_by_sigkill():
    import shutil

    folder = _ends_with_its_parent_killed(
        SERVICE + "print(service.pid, os.path.dirname(os.environ['CUS_VALIDATION_SERVICE']), flush=True)\n")
    shutil.rmtree(folder, ignore_errors=True)  # the killed parent's temporary folder (its socket inside)


def test_a_suite_changed_while_the_process_lives_is_made_anew():
    """The service outlives edits of the rule files: a suite is cached by its rules' content, not its name."""
    import dataclasses

    import polars as pl

    from assets.staging.rules import rules_for
    from assets.staging.suites import validate_here
    from core.contract import dataset

    (first_copy,) = [r for r in rules_for(dataset("milestones")) if r.id == "duplicate_row"]
    frame = pl.DataFrame({"row_number": [0, 1], "chk__first_copy": [True, False]})
    (strict,) = validate_here("milestones__row", [first_copy], frame)
    edited = dataclasses.replace(first_copy, expect={
        "type": "expect_column_values_to_be_in_set", "kwargs": {"column": "chk__first_copy", "value_set": [True, False]}})
    (lenient,) = validate_here("milestones__row", [edited], frame)
    assert (strict.success, strict.unexpected_rows) == (False, [1])
    assert (lenient.success, lenient.unexpected_rows) == (True, [])


def test_cus_ui_passes_the_service_to_dagster_dev(tmp_path, monkeypatch, capsys):
    """The daemon, its code server and every run's process inherit the address from dagster dev's
    environment."""
    from types import SimpleNamespace

    from pipelines.tools import report_server, ui

    started = {}

    class FakeDagsterDev:
        def __init__(self, command, cwd, env):
            started.update(command=command, env=env)

        def wait(self):
            return 0

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CUS_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setattr(report_server, "start_report_server",
                        lambda root, port: SimpleNamespace(url=f"http://127.0.0.1:{port}", stop=lambda: None))
    monkeypatch.setattr(ui, "start_service", lambda: {"CUS_VALIDATION_SERVICE": "/run/gx.sock",
                                                      "CUS_VALIDATION_SERVICE_KEY": "ab"})
    monkeypatch.setattr(ui.subprocess, "Popen", FakeDagsterDev)
    monkeypatch.setattr(ui.signal, "signal", lambda *args: None)  # not this test process's SIGTERM
    assert ui.run_ui("127.0.0.1", 3000, 3001) == 0
    assert started["command"][1] == "dev"
    assert started["env"]["CUS_VALIDATION_SERVICE"] == "/run/gx.sock"
    assert started["env"]["CUS_VALIDATION_SERVICE_KEY"] == "ab"
    # a service that cannot start: the UI starts without it, saying so (each run imports GX itself)
    from assets.staging.validation_service import ServiceError

    def failing():
        raise ServiceError("proces walidacji (Great Expectations) nie wystartował (kod wyjścia 1)")

    monkeypatch.setattr(ui, "start_service", failing)
    monkeypatch.delenv("CUS_VALIDATION_SERVICE", raising=False)
    started.clear()
    assert ui.run_ui("127.0.0.1", 3000, 3001) == 0
    assert "CUS_VALIDATION_SERVICE" not in started["env"]
    assert "Uwaga: proces walidacji (Great Expectations) nie wystartował" in capsys.readouterr().out


def test_the_service_outlives_bad_peers_and_reports_a_failing_suite_to_its_run():
    out = run_python(SERVICE + """
import socket, time
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Client
address, key = os.environ["CUS_VALIDATION_SERVICE"], os.environ["CUS_VALIDATION_SERVICE_KEY"]
with socket.socket(socket.AF_UNIX) as peer:  # hangs up during the key's handshake
    peer.connect(address)
    peer.recv(10)
try:  # a wrong key
    Client(address, "AF_UNIX", authkey=b"wrong")
except Exception as error:
    print("wrong key:", type(error).__name__)
os.environ["CUS_VALIDATION_SERVICE_KEY"] = "00" * 32
assert validation_service.connect() is None
os.environ["CUS_VALIDATION_SERVICE_KEY"] = key
validation_service._fingerprint[:] = ["other code"]  # a run of other validation code than the service's
assert validation_service.connect() is None
validation_service._fingerprint.clear()
client = validation_service.connect()
assert client is not None and service.is_alive()
from assets.staging.rules import rules_for
from core.contract import dataset
import dataclasses, polars as pl
(rule,) = [r for r in rules_for(dataset("milestones")) if r.id == "duplicate_row"]
bogus = dataclasses.replace(rule, expect={"type": "expect_no_such_thing", "kwargs": {"column": "chk__first_copy"}})
frame = pl.DataFrame({"row_number": [0], "chk__first_copy": [True]})
try:
    client.submit(validation_process.validate_here, "milestones__row", [bogus], frame).result(60)
except RuntimeError as error:
    print("suite failed:", str(error).splitlines()[0])
good = client.submit(validation_process.validate_here, "milestones__row", [rule], frame).result(60)
print("next suite:", [o.success for o in good])
busy = client.submit(validation_process.validate_here, "milestones__row", [rule], frame)
client.shutdown()
try:
    busy.result(10)
    print("after shutdown: the suite had finished")
except BrokenProcessPool:
    print("after shutdown: pending suite failed")
assert validation_service.connect() is not None and service.is_alive()
""")
    lines = out.strip().splitlines()
    assert lines[0] == "wrong key: AuthenticationError"
    assert lines[1].startswith("suite failed: AttributeError") and "ExpectNoSuchThing" in lines[1]
    assert lines[2] == "next suite: [True]"
    # a hang-up never leaves the run waiting (the suite fails, unless its outcomes came first)
    assert lines[3] in ("after shutdown: pending suite failed", "after shutdown: the suite had finished")


def test_a_daemon_run_that_used_the_service_exits():
    """A run's process of the daemon is a multiprocessing child of the code server: with the service's
    client (threads only, no process of its own) it ends as soon as its work does."""
    _child_that_validated_exits(SERVICE)
