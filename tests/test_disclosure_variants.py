"""Sequential disclosure on a series that tells the plausible variants of the rule apart (issue 14, item 2).

reports/suppression.py: the cumulative triple (total, women, men) of a quarter is published only
when every component is 0 or ≥ 5 AND its change since the LAST PUBLISHED triple is 0 or ≥ 5 (in
absolute value) in every component; the quarter value only when this and the previous cumulative
were published and each of its components is 0 or ≥ 5. Each quarter below is decided differently
by one wrong variant of the rule (named in the comment), so any of them fails this test.
"""

from __future__ import annotations

from decimal import Decimal

from reports.suppression import sequential_disclosure

QUARTERS = ("2022Q1", "2022Q2", "2022Q3", "2022Q4", "2023Q1", "2023Q2", "2023Q3")
CUMULATIVE = (  # total, women, men
    (15, 10, 5),  # published with its quarter value (first quarter: change from a published zero)
    (11, 6, 5),   # a correction: −4/−4/0 since 15/10/5 -> hidden
    (16, 11, 5),  # +1/+1/0 since the last PUBLISHED 15/10/5 -> hidden
                  #   (variant "change since the previous quarter": +5/+5/0 -> would publish)
    (26, 16, 10),  # +11/+6/+5 since 15/10/5 -> published; its quarter value 10/5/5 is hidden because
                   #   16/11/5 was (variant "ignore the previous quarter": would publish 10/5/5)
    (33, 22, 11),  # +7/+6/+1 since 26/16/10 -> hidden (variant "check the total only": would publish)
    (40, 37, 3),   # men 3 is small -> hidden, although the change +14/+21/−7 is fine
                   #   (variant "check only the change": would publish)
    (45, 45, 0),   # zero men discloses nobody; change +19/+29/−10 -> published
                   #   (variants "zero is small" and "a negative change is small": would hide)
)


def series() -> list[dict]:
    rows, previous = [], (0, 0, 0)
    for quarter, cumulative in zip(QUARTERS, CUMULATIVE):
        quarter_values = tuple(c - p for c, p in zip(cumulative, previous))
        rows.append({"quarter": quarter,
                     **dict(zip(("cumulative_total", "cumulative_women", "cumulative_men"), map(Decimal, cumulative))),
                     **dict(zip(("quarter_total", "quarter_women", "quarter_men"), map(Decimal, quarter_values)))})
        previous = cumulative
    return rows


def test_each_quarter_is_decided_by_one_clause_of_the_rule():
    assert sequential_disclosure(series(), 5) == {
        "2022Q1": (True, True),
        "2022Q2": (False, False),
        "2022Q3": (False, False),
        "2022Q4": (True, False),
        "2023Q1": (False, False),
        "2023Q2": (False, False),
        "2023Q3": (True, False),  # quarter value 5/8/−3: the men's −3 is small
    }


def test_the_visible_series_never_gives_a_small_difference():
    rows = series()
    decided = sequential_disclosure(rows, 5)
    visible = [[int(r[k]) for k in ("cumulative_total", "cumulative_women", "cumulative_men")]
               for r in rows if decided[r["quarter"]][0]]
    assert visible == [[15, 10, 5], [26, 16, 10], [45, 45, 0]]
    for before, after in zip(visible, visible[1:]):
        assert all(d == 0 or abs(d) >= 5 for d in (a - b for a, b in zip(after, before)))


def test_order_of_rows_and_forced_quarters():
    rows = series()
    assert sequential_disclosure(list(reversed(rows)), 5) == sequential_disclosure(rows, 5)
    # the consolidated sum hides 2022Q4 because a unit's figure is hidden: the next triple is then
    # compared with 15/10/5 again — 33/22/11 is +18/+12/+6 and is published (its quarter value is not)
    forced = sequential_disclosure(rows, 5, forced_hidden={"2022Q4"})
    assert forced["2022Q4"] == (False, False) and forced["2023Q1"] == (True, False)


def test_the_report_shows_the_series_as_the_rule_decides(tmp_path):
    """The same series through the unit report of Elbląg, quarter after quarter (homeless persons):
    the visible cells (quarter value, cumulative total / women / men) of each quarter."""
    from test_reports import _fixture_inputs, build_report

    from reports.formatting import Suppressed

    inputs = _fixture_inputs(tmp_path)
    label = "osoby bezdomne lub wykluczone z dostępu do mieszkań *"
    row = next(r for r in inputs.profile if r["unit"] == "elblag" and r["code"] == "HOMELESS")
    quarters = ("2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2", "2022Q3")
    inputs.profile_history = [r for r in inputs.profile_history if r["unit"] != "elblag" or r["code"] != "HOMELESS"]
    shown = []
    for quarter, values in zip(quarters, series()):
        inputs.quarter = quarter
        row.update({k: v for k, v in values.items() if k != "quarter"}, quarter=quarter)
        report = build_report(inputs, "unit", "elblag")
        cells = next(r for r in report.table("profil").rows if r.get("label") == label)
        shown.append([cells[k] for k in ("quarter_total", "cumulative_total", "cumulative_women", "cumulative_men")])
        inputs.profile_history.append({**row, "unit": "elblag", "code": "HOMELESS"})
    hidden, small = Suppressed(5, primary=False), Suppressed(5, primary=True)
    assert shown == [
        [15, 15, 10, 5],
        [hidden, hidden, hidden, hidden],  # −4/−4/0 since 15/10/5
        [hidden, hidden, hidden, hidden],  # +1/+1/0 since the last published 15/10/5
        [hidden, 26, 16, 10],              # the quarter value 10 is hidden: 2021Q3 was
        [hidden, hidden, hidden, hidden],  # +7/+6/+1
        [hidden, hidden, hidden, small],   # men 3: "<5"
        [hidden, 45, 45, 0],               # quarter value 5/8/−3 hidden
    ]


def test_a_single_person_is_small_and_hidden_values_count_as_unknown():
    # survivors of `make mutation` (README "Mutation testing"): 1 < count, `and` for `or` in _count
    from reports.formatting import Suppressed
    from reports.suppression import disclosure_by_series, is_small, suppress_rows

    assert [is_small(n, 5) for n in (0, 1, 4, 5, Suppressed(5), None)] == [False, True, True, False, False, False]
    row = {"x": 1, "y": 7}
    assert suppress_rows([row], ["x", "y"], 5) == 1 and row == {"x": Suppressed(5, primary=True), "y": 7}
    # a component the provider left empty (None) is unknown, never a crash, and does not block the others
    rows = [{"period": "2022Q1", "cumulative_total": Decimal(12), "cumulative_women": None, "cumulative_men": None,
             "quarter_total": Decimal(12), "quarter_women": None, "quarter_men": None, "unit": "a", "code": "X"}]
    assert sequential_disclosure(rows, 5, quarter_key="period") == {"2022Q1": (True, True)}
    assert disclosure_by_series(rows, 5, quarter_key="period") == {("a", "X", "2022Q1"): (True, True)}
