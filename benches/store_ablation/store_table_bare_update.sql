\set v random(1, 1000000)
UPDATE statewright_machines SET state = '{"Counting":{"count":' || :v || '}}', version = version + 1 WHERE machine = 'Counter' AND id = '0' AND version >= 0;
