\set v random(1, 1000000)
WITH moved AS (UPDATE raw SET state = '{"Counting":{"count":' || :v || '}}', version = version + 1 WHERE id = '0' AND version >= 0 RETURNING version) INSERT INTO raw_outbox SELECT pg_current_xact_id()::text::bigint, '0', version, '{"Counting":{"count":' || :v || '}}' FROM moved;
