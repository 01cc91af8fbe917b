"""The CLI runner: which partitions and which quarters' reports a run covers."""

from pathlib import Path

from core.registry import load_units
from pipelines.tools.runner import landed_quarters, reports_to_rebuild


def _land(root: Path, unit: str, quarters: list[str]) -> None:
    for quarter in quarters:
        (root / unit / quarter).mkdir(parents=True)


def test_a_correction_rebuilds_the_reports_of_its_quarter_and_every_later_one(tmp_path):
    units = [u for u in load_units() if u.key in ("srokowo", "elblag")]
    _land(tmp_path, "srokowo", ["2021Q1", "2021Q2", "2021Q3", "2021Q4"])
    _land(tmp_path, "elblag", ["2021Q1", "2022Q1"])
    (tmp_path / "srokowo" / "notes").mkdir()  # not a quarter folder
    assert landed_quarters(tmp_path, units[1]) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    assert reports_to_rebuild(units, tmp_path, ["2021Q3"]) == ["2021Q3", "2021Q4", "2022Q1"]
    assert reports_to_rebuild([units[1]], tmp_path, ["2021Q2"]) == ["2021Q2", "2021Q3", "2021Q4"]
    assert reports_to_rebuild(units, tmp_path, None) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1"]


def test_cli_ingest_rebuilds_reports_unless_told_not_to():
    from pipelines.tools.cli import build_parser

    args = build_parser().parse_args(["ingest", "--unit", "srokowo", "--quarter", "2021Q3"])
    assert args.no_reports is False
    args = build_parser().parse_args(["ingest", "--unit", "srokowo", "--quarter", "2021Q3", "--no-reports"])
    assert args.no_reports is True
