-- report.flags: monitoring signals per unit × reporting quarter. Severity, area, parameter and
-- on/off of every rule come from schemas/flags.yaml (registered as `flag_rules`).
CREATE OR REPLACE TABLE report.flags AS
WITH rules AS (
    SELECT code, severity, area, enabled, cast(param AS DECIMAL(9, 4)) AS param FROM flag_rules
),
grid AS (
    SELECT unit, quarter, end_date, quarter_index, quarter_count, has_data FROM mart.unit_quarter WHERE in_report
),
settlement AS (SELECT * FROM report.settlement),
advances AS (SELECT * FROM report.advances),
commissioned AS (SELECT * FROM report.commissioned),
plan AS (SELECT * FROM report.plan_vs_actual),
indicators AS (SELECT * FROM report.indicators),
advance_rule AS (
    SELECT unit, quarter, 'ZALICZKA_PONIZEJ_PROGU' AS rule,
           'Rozliczono ' || report.pl_pct(spent_share) || ' otrzymanych zaliczek (' || report.pl_money(spent)
           || ' z ' || report.pl_money(received_total) || '); próg ' || report.pl_pct(threshold)
           || ' — wniosek o kolejną transzę niemożliwy, brakuje ' || report.pl_money(missing_to_threshold) || '.' AS message
    FROM advances WHERE NOT next_tranche_allowed
),
projection_rule AS (
    SELECT s.unit, s.quarter, 'PROGNOZA_RYZYKO' AS rule,
           'Prognoza wydatków na koniec projektu ' || report.pl_money(s.projected_total) || ' = '
           || report.pl_pct(s.projected_share) || ' budżetu (' || report.pl_money(s.budget_total)
           || '); tempo ' || report.pl_money(s.burn_rate) || ' na kwartał.' AS message
    FROM settlement AS s, rules AS r
    WHERE r.code = 'PROGNOZA_RYZYKO'
      AND s.projection_risk  -- band from the same rule's param (report.settlement reads flag_rules)
),
commissioned_rule AS (
    SELECT unit, quarter, 'ZLECANIE_PONIZEJ_PROGU' AS rule,
           'Usługi zlecone stanowią ' || report.pl_pct(share) || ' kosztów bezpośrednich ('
           || report.pl_money(commissioned_amount) || ' z ' || report.pl_money(direct_costs) || '); próg '
           || report.pl_pct(threshold) || '.' AS message
    FROM commissioned WHERE met = FALSE
),
cross_financing_rule AS (
    SELECT unit, quarter, 'CROSS_FINANCING_LIMIT' AS rule,
           'Cross-financing narastająco ' || report.pl_money(cross_financing) || ' przekracza kwotę dozwoloną w umowie '
           || report.pl_money(cross_financing_allowed) || ' (linie budżetu cross-financing, najwyżej '
           || report.pl_pct(cross_financing_limit) || ' wartości projektu ' || report.pl_money(budget_total) || ').' AS message
    FROM settlement WHERE cross_financing_over_limit
),
cross_financing_share_rule AS (
    SELECT unit, quarter, 'CROSS_FINANCING_UDZIAL' AS rule,
           'Cross-financing ' || report.pl_money(cross_financing) || ' = ' || report.pl_pct(cross_financing_share)
           || ' dotychczasowych wydatków kwalifikowalnych (limit ' || report.pl_pct(cross_financing_limit)
           || ' liczony od wartości projektu); w umowie dozwolone ' || report.pl_money(cross_financing_allowed)
           || ' — udział zmaleje wraz z kolejnymi wydatkami.' AS message
    FROM settlement WHERE cross_financing_share_above_limit AND NOT cross_financing_over_limit
),
fixed_assets_rule AS (
    SELECT unit, quarter, 'SRODKI_TRWALE_LIMIT' AS rule,
           'Środki trwałe narastająco ' || report.pl_money(fixed_assets) || ' przekraczają kwotę dozwoloną w umowie '
           || report.pl_money(fixed_assets_allowed) || ' (linie budżetu środków trwałych, najwyżej '
           || report.pl_pct(fixed_assets_limit) || ' wartości projektu ' || report.pl_money(budget_total) || ').' AS message
    FROM settlement WHERE fixed_assets_over_limit
),
fixed_assets_share_rule AS (
    SELECT unit, quarter, 'SRODKI_TRWALE_UDZIAL' AS rule,
           'Środki trwałe ' || report.pl_money(fixed_assets) || ' = ' || report.pl_pct(fixed_assets_share)
           || ' dotychczasowych wydatków kwalifikowalnych (limit ' || report.pl_pct(fixed_assets_limit)
           || ' liczony od wartości projektu); w umowie dozwolone ' || report.pl_money(fixed_assets_allowed)
           || ' — udział zmaleje wraz z kolejnymi wydatkami.' AS message
    FROM settlement WHERE fixed_assets_share_above_limit AND NOT fixed_assets_over_limit
),
plan_rule AS (
    SELECT p.unit, p.quarter, 'OPOZNIENIE_WZGLEDEM_PLANU' AS rule,
           'Wydatki narastająco ' || report.pl_money(p.actual_cumulative) || ' = ' || report.pl_pct(p.cumulative_share)
           || ' harmonogramu (' || report.pl_money(p.planned_cumulative) || '); opóźnienie ponad '
           || report.pl_pct(r.param) || '.' AS message
    FROM plan AS p JOIN grid AS g USING (unit, quarter), rules AS r
    WHERE r.code = 'OPOZNIENIE_WZGLEDEM_PLANU' AND p.actual_cumulative IS NOT NULL AND p.planned_cumulative > 0
      AND p.actual_cumulative < (1 - r.param) * p.planned_cumulative
),
indicator_rule AS (
    SELECT i.unit, i.quarter, 'WSKAZNIK_ZAGROZONY' AS rule,
           'Wskaźnik ' || i.code || ' (' || i.name || '): ' ||
           CASE WHEN i.measure_unit = '%' THEN report.pl_pct(i.cumulative_total) || ' wobec ' || report.pl_pct(i.target_total)
                ELSE report.pl_int(i.cumulative_total) || ' z ' || report.pl_int(i.target_total) END
           || ' (' || report.pl_pct(i.pct) || ' wartości docelowej) po ' || g.quarter_index || ' z '
           || g.quarter_count || ' kwartałów.' AS message
    FROM indicators AS i JOIN grid AS g USING (unit, quarter), rules AS r
    WHERE r.code = 'WSKAZNIK_ZAGROZONY' AND i.target_total > 0
      AND 2 * g.quarter_index > g.quarter_count
      AND i.cumulative_total < r.param * i.target_total
),
milestone_rule AS (
    SELECT g.unit, g.quarter, 'KAMIEN_PO_TERMINIE' AS rule,
           'Kamień milowy ' || m.code || ' (' || m.name || ') planowany na ' || strftime(m.planned_date, '%d.%m.%Y')
           || ' nieosiągnięty do końca kwartału.' AS message
    FROM grid AS g JOIN mart.milestone AS m ON m.unit = g.unit
    WHERE m.planned_date <= g.end_date AND (m.achieved_date IS NULL OR m.achieved_date > g.end_date)
),
quarantine_rule AS (
    SELECT g.unit, g.quarter, 'KWARANTANNA' AS rule,
           'Zbiór ' || report.dataset_label(v.dataset) || CASE WHEN v.quarter IS NULL THEN ' (umowa)' ELSE '' END || ': '
           || report.pl_int(v.quarantined) || ' z ' || report.pl_int(v.received)
           || ' wierszy w kwarantannie — popraw plik i prześlij ponownie.' AS message
    FROM grid AS g JOIN report.data_quality AS v
      ON v.unit = g.unit AND (v.quarter = g.quarter OR v.quarter IS NULL)
    WHERE v.quarantined > 0
),
missing_rule AS (
    SELECT unit, quarter, 'BRAK_PLIKOW' AS rule,
           'Brak plików kwartalnych za ' || quarter || ': wartości w kwartale zerowe, narastające przeniesione.' AS message
    FROM grid WHERE NOT has_data
),
missing_file_rule AS (
    -- a quarter with validated files but without one sent every quarter (schemas/contract.yaml every_quarter)
    SELECT g.unit, g.quarter, 'BRAK_PLIKU' AS rule,
           'Brak przyjętego pliku wysyłanego co kwartał za ' || g.quarter || ': '
           || string_agg(report.dataset_label(e.dataset), ', ' ORDER BY e.position)
           || ' (nie przesłano go albo odrzucono w całości — zob. cus status). Bez niego wartości z tego pliku są '
           || 'w kwartale zerowe; jeśli w kwartale nie było takich danych, nic nie trzeba robić.' AS message
    FROM grid AS g
    CROSS JOIN contract_every_quarter AS e
    WHERE g.has_data
      AND EXISTS (SELECT 1 FROM report.data_quality AS v WHERE v.unit = g.unit AND v.quarter = g.quarter)
      AND NOT EXISTS (SELECT 1 FROM report.data_quality AS v
                      WHERE v.unit = g.unit AND v.quarter = g.quarter AND v.dataset = e.dataset)
    GROUP BY g.unit, g.quarter
),
budget_rule AS (
    SELECT unit, quarter, 'BUDZET_NIEZGODNY' AS rule,
           'Suma linii budżetu ' || report.pl_money(budget_lines_total) || ' różni się od wartości projektu '
           || report.pl_money(budget_total) || ' (config/units.yaml).' AS message
    FROM settlement WHERE budget_lines_total IS NOT NULL AND budget_lines_total <> budget_total
),
off_budget_rule AS (
    SELECT g.unit, g.quarter, 'WYDATKI_POZA_BUDZETEM' AS rule,
           'Wydatki ' || report.pl_money(sum(e.eligible_amount)) || ' (' || count(*) || ' dok.) na zadaniu/kategorii '
           || e.task_no || '/' || e.cost_category || ' spoza budżetu umowy.' AS message
    FROM grid AS g JOIN mart.fact_expense AS e ON e.unit = g.unit AND e.quarter = g.quarter
    WHERE NOT e.in_budget
    GROUP BY g.unit, g.quarter, e.task_no, e.cost_category
),
all_flags AS (
    SELECT * FROM advance_rule UNION ALL SELECT * FROM projection_rule UNION ALL SELECT * FROM commissioned_rule
    UNION ALL SELECT * FROM cross_financing_rule UNION ALL SELECT * FROM fixed_assets_rule
    UNION ALL SELECT * FROM cross_financing_share_rule UNION ALL SELECT * FROM fixed_assets_share_rule
    UNION ALL SELECT * FROM plan_rule UNION ALL SELECT * FROM indicator_rule UNION ALL SELECT * FROM milestone_rule
    UNION ALL SELECT * FROM quarantine_rule UNION ALL SELECT * FROM missing_rule UNION ALL SELECT * FROM missing_file_rule
    UNION ALL SELECT * FROM budget_rule UNION ALL SELECT * FROM off_budget_rule
),
final AS (
    SELECT f.unit, f.quarter, r.severity, r.area, f.message, f.rule
    FROM all_flags AS f JOIN rules AS r ON r.code = f.rule
    WHERE r.enabled
)
SELECT * FROM final
ORDER BY unit, quarter, CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, rule, message;
