"""The CLI runner: which partitions and which quarters' reports a run covers."""

from pathlib import Path

from assets.report.rebuild_scope import (
    changed_by_partition,
    not_covered,
    quarters_to_report,
    units_to_rewrite,
)
from core.registry import load_units
from pipelines.tools.runner import landed_quarters


def _land(root: Path, unit: str, quarters: list[str]) -> None:
    for quarter in quarters:
        (root / unit / quarter).mkdir(parents=True)


def test_a_correction_rebuilds_the_reports_of_its_quarter_and_every_later_one(tmp_path):
    units = [u for u in load_units() if u.key in ("srokowo", "elblag")]
    _land(tmp_path, "srokowo", ["2021Q1", "2021Q2", "2021Q3", "2021Q4"])
    _land(tmp_path, "elblag", ["2021Q1", "2022Q1"])
    (tmp_path / "srokowo" / "notes").mkdir()  # not a quarter folder
    assert landed_quarters(tmp_path, units[1]) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    # srokowo 2021Q3 re-sent: its 2021Q3 and 2021Q4 (elblag's 2022Q1 does not change)
    assert quarters_to_report(changed_by_partition(["srokowo|2021Q3"]), units, tmp_path) == ["2021Q3", "2021Q4"]
    assert quarters_to_report(changed_by_partition(["srokowo|2021Q2", "elblag|2021Q1"]), units, tmp_path) == [
        "2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1"]
    # agreement data (budget, catalogue) feeds every quarter of the unit
    assert changed_by_partition(["elblag", "elblag|2022Q1"]) == {"elblag": [""]}
    assert quarters_to_report(changed_by_partition(["elblag"]), units, tmp_path) == ["2021Q1", "2022Q1"]


def test_cli_ingest_rebuilds_reports_unless_told_not_to():
    from pipelines.tools.cli import build_parser

    args = build_parser().parse_args(["ingest", "--unit", "srokowo", "--quarter", "2021Q3"])
    assert args.no_reports is False
    args = build_parser().parse_args(["ingest", "--unit", "srokowo", "--quarter", "2021Q3", "--no-reports"])
    assert args.no_reports is True


def test_reports_after_a_run_are_those_of_the_changed_units_and_the_consolidated_one():
    units = load_units()
    assert units_to_rewrite(changed_by_partition(["srokowo|2021Q3", "srokowo|2021Q4", "srokowo"]), units) == ["srokowo"]
    assert units_to_rewrite(changed_by_partition(["srokowo|2021Q3", "elblag|2022Q1"]), units) == ["elblag", "srokowo"]
    every = [f"{u.key}|{u.quarters[0]}" for u in units]
    assert units_to_rewrite(changed_by_partition(every), units) is None  # every unit: the whole quarter


def test_a_run_for_one_unit_does_not_call_the_other_units_folders_unknown(tmp_path):
    from pipelines.tools.runner import landing_problems

    srokowo = next(u for u in load_units() if u.key == "srokowo")
    _land(tmp_path, "srokowo", ["2021Q3"])
    _land(tmp_path, "elblag", ["2021Q3"])
    (tmp_path / "srokowo" / "kwartal3").mkdir()  # a misnamed folder of the chosen unit
    (tmp_path / "nieznana").mkdir()  # a folder of no unit of the registry
    problems = landing_problems(tmp_path, [srokowo])
    assert any(p.startswith("srokowo/kwartal3/: ") for p in problems), problems
    assert any(p.startswith("nieznana") for p in problems), problems
    assert not any(p.startswith("elblag") for p in problems), problems


def test_only_the_outdated_reports_the_change_does_not_rewrite_are_written_again():
    changed = changed_by_partition(["srokowo|2021Q3", "elblag"])
    outdated = {"srokowo": ["2021Q1", "2021Q3", "2021Q4"], "elblag": ["2021Q2"], "myslenice": ["2022Q1"]}
    assert not_covered(changed, outdated) == {"srokowo": ["2021Q1"], "myslenice": ["2022Q1"]}
