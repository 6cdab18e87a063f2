-- The demo register as the CSV that `register import` reads (one
-- qualification per row: the verified, highest-level one), for timing import.
SELECT r.family_name, r.given_names, r.date_of_birth, r.email,
  coalesce(g.status, 'applicant') AS status,
  coalesce((SELECT group_concat(value, ';') FROM json_each(r.previous_names)), '') AS previous_names,
  coalesce(q.level, '') AS qualification_level, coalesce(q.title, '') AS qualification_title,
  coalesce(q.awarding_body, '') AS awarding_body, coalesce(q.awarded_on, '') AS awarded_on,
  coalesce(q.certificate_ref, '') AS certificate_ref,
  CASE WHEN q.id IS NULL THEN '' WHEN q.verified_at IS NOT NULL THEN 'verified' ELSE q.initial_state END AS qualification_state,
  coalesce(g.registered_until, '') AS registered_until,
  CASE WHEN g.status IN ('suspended', 'removed') OR (g.status = 'lapsed' AND g.registered_until >= date('now'))
    THEN (SELECT substr(max(p.valid_from), 1, 10) FROM registration_periods p WHERE p.registrant_id = r.id AND p.superseded_at IS NULL)
    ELSE '' END AS status_from,
  coalesce(substr(g.first_admitted_at, 1, 10), '') AS admitted_on
FROM registrants r
LEFT JOIN registrations g ON g.registrant_id = r.id
LEFT JOIN qualifications q ON q.id = (SELECT id FROM qualifications WHERE registrant_id = r.id ORDER BY verified_at IS NOT NULL DESC, level DESC LIMIT 1)
