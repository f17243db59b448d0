\set v random(1, 1000000)
UPDATE raw SET state = '{"Counting":{"count":' || :v || '}}', version = version + 1 WHERE id = '0' AND version >= 0;
