#!/usr/bin/env bash
# Instructions per event of each implementation under callgrind: the count
# of one run over the stream minus the count of generating the stream.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release -q
binary=target/release/statewright-peers
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$@" 2>&1 \
        | awk '/Collected :/ { print $4 }'
}
base=$(count --only "hand-written match" --rounds 0)
echo "| implementation | instructions/event |"
echo "|---|---:|"
for name in "statewright fire" "hand-written match" "hand-written table" "rust-fsm 0.8" "statig 0.4" "finny 0.3" "smlang 0.8"; do
    total=$(count --only "$name" --rounds 1)
    echo "| $name | $(echo "scale=2; ($total - $base) / 10000000" | bc) |"
done
