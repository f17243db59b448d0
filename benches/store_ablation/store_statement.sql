\set v random(1, 1000000)
WITH moved AS (
     UPDATE statewright_machines
        SET left_kind = kind, kind = 'Counting', state = '{"Counting":{"count":' || :v || '}}',
            version = version + 1, updated_at = 5,
            timer_at = CASE WHEN true THEN timer_at ELSE NULL END,
            timer_event = CASE WHEN true THEN timer_event ELSE NULL END
            , checksum = statewright_checksum(id, 'Counting', '{"Counting":{"count":' || :v || '}}') -- checksum
      WHERE machine = 'Counter' AND id = '0'
        AND checksum = statewright_checksum(id, kind, state) -- checksum
        AND fingerprint = 42 AND version = COALESCE(NULL, version) -- guards
        AND version < 9223372036854775807 AND kind = ANY('{Counting}'::text[]) -- guards
        AND lease_epoch = COALESCE(NULL::bigint, lease_epoch) -- guards
  RETURNING version, left_kind, timer_at, timer_event
 )
 , logged AS (INSERT INTO statewright_outbox (position, machine, id, version, from_kind, state, fingerprint, at) SELECT pg_current_xact_id()::text::bigint, 'Counter', '0', version, left_kind, '{"Counting":{"count":' || :v || '}}', 42, 5 FROM moved) -- outbox
 SELECT version, timer_at, timer_event FROM moved;
