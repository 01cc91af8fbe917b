"""Modules Great Expectations imports but no rule uses are imported on first use only
(core/deferred_modules.py) — and still work when something does use them. Each case runs in a fresh
interpreter: whether a module is already imported depends on what the test process did before."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "GX_ANALYTICS_ENABLED": "False",
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_deferred_module_is_imported_on_first_use_by_every_import_form():
    out = run_python("""
import sys
from core.deferred_modules import DeferredModule, defer
assert defer("scipy.stats", "os", "no_such_module_here") == ["scipy.stats"]  # os: already imported
stand_in = sys.modules["scipy.stats"]
assert isinstance(stand_in, DeferredModule)
import scipy.stats
from scipy import stats
assert stats is stand_in and scipy.stats is stand_in  # importing again does not load it
print(round(float(stats.entropy([0.5, 0.5], [0.9, 0.1])), 4))  # the first use loads the real module
assert not isinstance(sys.modules["scipy.stats"], DeferredModule)
from scipy.stats import norm
print(round(float(norm.cdf(0)), 2), stand_in.norm is norm)
""")
    assert out.split() == ["0.5108", "0.5", "True"]


def test_validation_runs_without_importing_what_great_expectations_does_not_need():
    out = run_python("""
import sys
from datetime import date
from test_validation import CHECKED_AT, ELBLAG, raw_frame
from assets.staging.validate import validate_partition
from core.contract import dataset
from core.deferred_modules import DeferredModule
ok = {"document_no": "FV/1", "issuer_nip": "5260001246", "issue_date": "02.08.2021", "task_no": "1",
      "cost_category": "3.1", "item_name": "Usługa", "gross_amount": "123,00", "net_amount": "100,00",
      "eligible_amount": "123,00", "vat_amount": "23,00"}
rows = [ok, {**ok, "document_no": "FV/2", "task_no": "9"}]
result = validate_partition(dataset("expenses"), raw_frame("expenses", rows), ELBLAG, "2021Q3",
                            {"documents_other_quarters": [], "budget_tasks": [1]}, today=date(2021, 10, 5),
                            checked_at=CHECKED_AT)
print(result.accepted["document_no"].to_list(), result.quarantine["rule"].to_list())
print([type(sys.modules[name]).__name__ for name in ("scipy.stats", "altair")])
""")
    assert out.splitlines() == ["['FV/1'] ['task_in_budget']", "['DeferredModule', 'DeferredModule']"]
