#!/usr/bin/env bash
# Where the PostgreSQL store's compare-and-set spends its time: the store's
# statement (as `runtime/src/store/postgres/mod.rs` sends it, the values
# written in) against a raw `UPDATE`, with one part removed at a time, each
# on a fresh copy of the store's schema, one client, `pgbench -M prepared`.
# Each round starts one variant later; each ratio is taken within its round.
#
#   benches/store_ablation/run.sh postgres://user@host:port/db [rounds] [seconds]
#
# (`scripts/postgres benches/store_ablation/run.sh` starts a throwaway server
# and passes its URL in STATEWRIGHT_POSTGRES_URL.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
url="${1:-${STATEWRIGHT_POSTGRES_URL:?a server URL, or run under scripts/postgres}}"
rounds="${2:-5}"
seconds="${3:-6}"
server="${url%/*}"

# The store's schema, read from its source so that it cannot drift.
schema="$(python3 - "$here/../../runtime/src/store/postgres/schema.rs" <<'PY'
import re, sys
source = open(sys.argv[1]).read()
for name in ("SCHEMA", "UPGRADE_FROM_2"):
    print(re.search(r'const ' + name + r': &str = "(.*?)";\n', source, re.S).group(1))
PY
)"
psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS statewright_ablation" \
    -c "CREATE DATABASE statewright_ablation"
psql -q "$server/statewright_ablation" -c "$schema"
psql -q "$server/statewright_ablation" <<'SQL'
CREATE TABLE raw (id TEXT PRIMARY KEY, state TEXT, version BIGINT);
CREATE TABLE raw_outbox (position BIGINT, id TEXT, version BIGINT, state TEXT,
                         PRIMARY KEY (id, position));
INSERT INTO raw VALUES ('0', '"Idle"', 0);
INSERT INTO statewright_machines (machine, id, kind, state, version, fingerprint, updated_at, checksum)
     VALUES ('Counter', '0', 'Counting', '{"Counting":{"count":0}}', 0, 42, 0,
             statewright_checksum('0', 'Counting', '{"Counting":{"count":0}}'));
SQL

# name | script | the lines it leaves out (those ending `-- tag`) | an index dropped first
variants="raw_update|raw_update||
raw_update_and_outbox|raw_update_and_outbox||
store_table_bare_update|store_table_bare_update||
store_statement_without_outbox|store_statement|outbox|
store_statement_without_checksum|store_statement|checksum|
store_statement_without_guards|store_statement|guards|
store_statement_without_outbox_by_id|store_statement||statewright_outbox_by_id
store_statement_without_kind_index|store_statement||statewright_machines_by_kind
store_statement|store_statement||"
scripts="$(mktemp -d)"
trap 'rm -rf "$scripts"' EXIT

mapfile -t lines <<<"$variants"
count=${#lines[@]}
for round in $(seq "$rounds"); do
    # Each round starts one variant later: what runs after what (a
    # checkpoint, autovacuum) does not always fall on the same variant.
    declare -A rate=()
    for step in $(seq 0 $((count - 1))); do
        IFS='|' read -r name script without index <<<"${lines[$(((round - 1 + step) % count))]}"
        grep -v -- "-- ${without:-none}\$" "$here/$script.sql" >"$scripts/$name.sql"
        psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS statewright_ablation_run" \
            -c "CREATE DATABASE statewright_ablation_run TEMPLATE statewright_ablation"
        if [ -n "$index" ]; then
            psql -q "$server/statewright_ablation_run" -c "DROP INDEX $index"
        fi
        out="$(pgbench -n -M prepared -c 1 -T "$seconds" -f "$scripts/$name.sql" \
            "$server/statewright_ablation_run" 2>&1)"
        done_count="$(awk '/actually processed/ { split($NF, n, "/"); print n[1] }' <<<"$out")"
        # Every transaction must have moved the row: a statement that
        # matched nothing would be measured as fast.
        table=statewright_machines
        [[ $script == raw_* ]] && table=raw
        version="$(psql -tA "$server/statewright_ablation_run" -c "SELECT version FROM $table WHERE id = '0'")"
        if [ "$version" != "$done_count" ]; then
            echo "$name: $done_count transactions but version $version: not measured" >&2
            exit 1
        fi
        rate[$name]="$(awk '/^tps/ { printf "%.0f", $3 }' <<<"$out")"
    done
    echo "round $round (transactions/s, / raw_update):"
    for line in "${lines[@]}"; do
        name="${line%%|*}"
        printf '  %-38s %6s  %.2fx\n' "$name" "${rate[$name]}" \
            "$(bc -l <<<"${rate[$name]} / ${rate[raw_update]}")"
    done
    unset rate
done
psql -q "$server/postgres" -c "DROP DATABASE statewright_ablation_run" \
    -c "DROP DATABASE statewright_ablation"
