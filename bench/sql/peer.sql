-- The registrants on the public register as the CSV that the peer
-- (PocketBase) loads: the fields a team would filter on, and the whole
-- public answer as JSON, so that both servers send the same content.
SELECT register_number,
  json_extract(j, '$.family_name') AS family_name,
  json_extract(j, '$.given_names') AS given_names,
  status,
  registered_until,
  j AS answer
FROM (SELECT register_number, status, registered_until, CAST(public_json AS TEXT) AS j FROM registrations);
