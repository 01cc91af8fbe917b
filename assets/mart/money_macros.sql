-- Money rules of docs/domain.md §2–§3 as DuckDB macros: the ONE SQL place (Python side: core/money.py).
-- Every amount is DECIMAL(18,2) (złote with grosze), every rate DECIMAL(9,4). No DOUBLE anywhere:
-- rounding happens on exact decimals, so SQL and Python agree to the grosz (tests/test_settlement.py).

-- EU (EFS) part: amount × eu_rate rounded DOWN to the grosz (towards zero, as Python ROUND_DOWN).
-- 2 489 370,50 × 0,8428 = 2 098 041,4574 → 2 098 041,45.
CREATE OR REPLACE MACRO mart.eu_part(amount, rate) AS
    cast(cast(trunc(cast(amount AS decimal(18, 2)) * cast(rate AS decimal(9, 4)) * 100) AS decimal(18, 0)) * 0.01
         AS decimal(18, 2));

-- National part (state budget): the remainder, so EU + national = amount exactly.
CREATE OR REPLACE MACRO mart.national_part(amount, rate) AS
    cast(cast(amount AS decimal(18, 2)) - mart.eu_part(amount, rate) AS decimal(18, 2));

-- Indirect costs: eligible direct costs × flat rate, rounded HALF UP (away from zero) to the grosz.
-- DuckDB's DECIMAL cast to a smaller scale rounds half away from zero = Python ROUND_HALF_UP.
CREATE OR REPLACE MACRO mart.indirect_costs(direct, rate) AS
    cast(cast(direct AS decimal(18, 2)) * cast(rate AS decimal(9, 4)) AS decimal(18, 2));

-- amount / n rounded half up to the grosz in integer arithmetic (grosze), no DOUBLE:
-- used by the burn-rate average. n must be a positive integer.
CREATE OR REPLACE MACRO mart.divide_money(amount, n) AS
    cast(cast(CASE WHEN cast(amount AS decimal(18, 2)) >= 0
                   THEN (cast(cast(amount AS decimal(18, 2)) * 100 AS hugeint) * 2 + cast(n AS hugeint))
                        // (2 * cast(n AS hugeint))
                   ELSE -((cast(-cast(amount AS decimal(18, 2)) * 100 AS hugeint) * 2 + cast(n AS hugeint))
                        // (2 * cast(n AS hugeint))) END AS decimal(18, 0)) * 0.01 AS decimal(18, 2));

-- Display ratio part / whole as DECIMAL(9,4) (e.g. 0.6999 = 69,99%), NULL when whole is 0 or NULL.
-- Only for printing: threshold tests compare exact decimals (part >= threshold × whole).
CREATE OR REPLACE MACRO mart.share(part, whole) AS
    CASE WHEN whole IS NULL OR whole = 0 THEN NULL
         ELSE cast(cast(part AS double) / cast(whole AS double) AS decimal(9, 4)) END;

-- Reporting-quarter label of a date: 2021-02-10 → '2021Q1'.
CREATE OR REPLACE MACRO mart.quarter_label(d) AS
    cast(year(d) AS varchar) || 'Q' || cast(quarter(d) AS varchar);
