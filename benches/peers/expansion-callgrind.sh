#!/usr/bin/env bash
# Instructions per expansion of the macro, with and without the rustdoc
# picture, optimised and as a user's build runs it (opt-level 0), under
# callgrind: the count of N + 1 expansions minus the count of one, over N.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release -q --bin expansion_count
cargo build -q --bin expansion_count
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
        | awk '/Collected :/ { print $4 }'
}
per_expansion() {
    local binary=$1 machine=$2 options=$3 n=$4
    local one many
    one=$(count "$binary" "$machine" $options 1)
    many=$(count "$binary" "$machine" $options $((n + 1)))
    echo $(((many - one) / n))
}
echo "| build | machine | with picture | no_picture |"
echo "|---|---|---:|---:|"
for build in release debug; do
    binary=target/$build/expansion_count
    for machine in worker 20 40 60; do
        n=5
        [[ $build == debug ]] && n=2
        with=$(per_expansion "$binary" "$machine" "" $n)
        without=$(per_expansion "$binary" "$machine" no_picture $n)
        echo "| $build | $machine | $with | $without |"
    done
done
