-- mart.dim_participant: current state of every participant (unit × participant_id) across the
-- cumulative quarterly participant files: the row of the latest quarter carrying the participant.
-- Pseudonymized: person_key (keyed PESEL pseudonym), never a name or PESEL.
CREATE OR REPLACE TABLE mart.dim_participant AS
WITH participant_rows AS (
    SELECT * FROM staging.participants
),
deliveries AS (
    SELECT unit, quarter, participant_id, ipus_no FROM staging.deliveries WHERE participant_id IS NOT NULL
),
units AS (
    SELECT unit, first_quarter FROM mart.dim_unit
),
first_seen AS (
    SELECT unit, participant_id, min(quarter) AS first_quarter, count(DISTINCT quarter) AS files
    FROM participant_rows GROUP BY unit, participant_id
),
current_rows AS (
    SELECT * FROM participant_rows
    QUALIFY row_number() OVER (PARTITION BY unit, participant_id ORDER BY quarter DESC, row_number DESC) = 1
),
ipus AS (
    SELECT unit, participant_id, min(quarter) AS ipus_quarter
    FROM deliveries WHERE nullif(trim(ipus_no), '') IS NOT NULL GROUP BY unit, participant_id
),
typed AS (
    SELECT
        c.unit, c.participant_id, c.person_key,
        c.pesel_status, c.participant_type,
        coalesce(c.sex, c.sex_from_pesel)                      AS sex,
        coalesce(c.age_at_entry, c.age_at_entry_from_pesel)    AS age_at_entry,
        c.education, c.degurba, c.labour_status, c.start_date, c.end_date,
        c.completed_path AS completed_path_answer, c.poverty_risk AS poverty_risk_answer,
        c.disability AS disability_answer, c.minority_migrant AS minority_migrant_answer,
        c.homeless AS homeless_answer, c.other_disadvantaged AS other_disadvantaged_answer,
        f.first_quarter, f.files AS quarterly_files, c.quarter AS current_quarter,
        i.ipus_quarter,
        c.source_file, c.file_sha256, c.row_number
    FROM current_rows AS c
    JOIN first_seen AS f USING (unit, participant_id)
    LEFT JOIN ipus AS i USING (unit, participant_id)
),
final AS (
    SELECT
        t.unit, t.participant_id, t.person_key, t.pesel_status, t.participant_type,
        t.sex, t.age_at_entry, t.education, t.degurba, t.labour_status,
        t.start_date, t.end_date,
        mart.quarter_label(t.start_date)                                        AS start_quarter,
        mart.quarter_label(t.end_date)                                          AS end_quarter,
        t.first_quarter, t.current_quarter, t.quarterly_files,
        -- counting quarters (schemas/indicators.yaml count_quarter)
        greatest(mart.quarter_label(t.start_date), u.first_quarter)            AS entry_quarter,
        t.ipus_quarter,
        TRUE                                                                    AS is_participant,
        t.labour_status IN ('unemployed_registered', 'unemployed_unregistered') AS is_unemployed,
        t.labour_status = 'unemployed_registered'                               AS is_unemployed_registered,
        cast(NULL AS BOOLEAN)                                                   AS is_long_term_unemployed,
        t.labour_status = 'inactive'                                            AS is_inactive,
        t.labour_status = 'employed'                                            AS is_employed,
        t.age_at_entry < 25                                                     AS is_under_25,
        t.age_at_entry BETWEEN 25 AND 54                                        AS is_age_25_54,
        t.age_at_entry > 54                                                     AS is_over_54,
        t.education IN ('isced0', 'isced1', 'isced2')                           AS is_isced_0_2,
        t.education = 'isced34'                                                 AS is_isced_3_4,
        t.education = 'isced58'                                                 AS is_isced_5_8,
        -- special-category flags keep the contract's column names, so the published copy
        -- (schemas/publish.yaml profile_columns) drops them from this person-grain table
        t.disability_answer = 'tak'                                             AS disability,
        t.minority_migrant_answer = 'tak'                                       AS minority_migrant,
        t.homeless_answer = 'tak'                                               AS homeless,
        t.other_disadvantaged_answer = 'tak'                                    AS other_disadvantaged,
        t.degurba = '3'                                                         AS is_rural,
        t.poverty_risk_answer = 'tak'                                           AS poverty_risk,
        t.ipus_quarter IS NOT NULL                                              AS has_ipus,
        t.completed_path_answer = 'tak'                                         AS completed_path,
        greatest(mart.quarter_label(t.start_date), u.first_quarter,
                 coalesce(mart.quarter_label(t.end_date), t.current_quarter))  AS path_quarter,
        t.source_file, t.file_sha256, t.row_number
    FROM typed AS t
    JOIN units AS u USING (unit)
)
SELECT * FROM final ORDER BY unit, participant_id;
