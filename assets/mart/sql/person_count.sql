-- mart.person_count: for every person-based code of the catalogue (schemas/indicators.yaml,
-- participant_flag set), each PERSON counted once per unit, in their counting quarter.
-- Rows of the same person under several participant IDs collapse to the earliest counting
-- quarter; K/M from that row. person_key = PESEL pseudonym, or id:<participant_id> without
-- PESEL (named person_key so the published copy drops it like every person identifier).
CREATE OR REPLACE TABLE mart.person_count AS
WITH participants AS (
    SELECT * FROM mart.dim_participant
),
catalogue AS (
    SELECT code, participant_flag, count_quarter FROM mart.indicator_catalogue WHERE participant_flag IS NOT NULL
),
flags AS (
    UNPIVOT (
        SELECT unit, participant_id, coalesce(person_key, 'id:' || participant_id) AS person_key, sex, entry_quarter, ipus_quarter, path_quarter,
               is_participant, is_unemployed, is_unemployed_registered, is_inactive, is_employed,
               is_under_25, is_age_25_54, is_over_54, is_isced_0_2, is_isced_3_4, is_isced_5_8,
               disability, minority_migrant, homeless, other_disadvantaged, is_rural,
               poverty_risk, has_ipus, completed_path
        FROM participants
    ) ON COLUMNS(* EXCLUDE (unit, participant_id, person_key, sex, entry_quarter, ipus_quarter, path_quarter))
    INTO NAME participant_flag VALUE flag_value
),
counted_rows AS (
    SELECT
        f.unit, c.code, f.person_key, f.participant_id, f.sex,
        CASE c.count_quarter
            WHEN 'ipus' THEN greatest(f.entry_quarter, f.ipus_quarter)
            WHEN 'path' THEN f.path_quarter
            ELSE f.entry_quarter END AS count_quarter
    FROM flags AS f
    JOIN catalogue AS c USING (participant_flag)
    WHERE f.flag_value
),
final AS (
    SELECT unit, code, person_key,
           min(count_quarter)                          AS count_quarter,
           arg_min(sex, count_quarter)                 AS sex,
           arg_min(participant_id, count_quarter)      AS participant_id,
           count(*)                                    AS participant_ids
    FROM counted_rows
    GROUP BY unit, code, person_key
)
SELECT * FROM final ORDER BY unit, code, count_quarter;
