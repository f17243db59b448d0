#!/usr/bin/env python3
"""Runs the peer comparison, the instruction counts and the compile times
(or reads their saved outputs) and writes BENCHMARKS.md and its chart,
benches/peers/chart.svg, from the results.

Usage: benches/peers/report.py [--peers FILE] [--callgrind FILE] [--compile FILE]
Without a FILE, the matching command is run (about 15 minutes in all).
"""

import argparse
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def output(saved, command):
    if saved:
        return Path(saved).read_text()
    return subprocess.run(command, cwd=HERE, check=True, capture_output=True, text=True).stdout


def tables(text):
    """Every Markdown table in `text`, as lists of cell rows (header dropped)."""
    found, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            found.append([row for row in rows[2:]])
            rows = []
    return found


def number(cell):
    return float(re.sub(r"[^0-9.]", "", cell.split()[0]))


def bars(x, y, width, title, unit, rows, colour):
    """A horizontal bar panel: (label, value) rows."""
    top = max(value for _, value in rows)
    parts = [f'<text x="{x}" y="{y}" font-weight="bold">{title}</text>']
    for index, (label, value) in enumerate(rows):
        row_y = y + 14 + index * 24
        length = (width - 190) * value / top
        fill = colour if label.startswith("statewright") else "#9aa5b1"
        parts.append(f'<text x="{x}" y="{row_y + 13}">{label}</text>')
        parts.append(f'<rect x="{x + 130}" y="{row_y}" width="{length:.1f}" height="16" fill="{fill}"/>')
        parts.append(f'<text x="{x + 136 + length:.1f}" y="{row_y + 13}">{value:g} {unit}</text>')
    return parts


def chart(speed, builds):
    height = 40 + 24 * max(len(speed), len(builds))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    parts += bars(10, 20, 450, "dispatch, ns/event (lower is better)", "ns", speed, "#2b6cb0")
    parts += bars(460, 20, 440, "clean release build, s (lower is better)", "s", builds, "#2f855a")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers")
    parser.add_argument("--callgrind")
    parser.add_argument("--compile")
    args = parser.parse_args()
    peers = output(args.peers, ["cargo", "run", "--release", "-q", "--", "--rounds", "15"])
    callgrind = output(args.callgrind, ["./callgrind.sh"])
    compile_times = output(args.compile, ["./compile-times.py", "--reps", "3"])

    one, fleet = tables(peers)[:2]
    speed = [(row[0], number(row[1])) for row in one]
    build_table, sweep = tables(compile_times)[:2]
    reps = re.search(r"(\d+) interleaved repetitions", compile_times).group(1)
    builds = [(row[0], number(row[1])) for row in build_table]
    (HERE / "chart.svg").write_text(chart(speed, builds))

    instructions = {row[0]: row[1] for row in tables(callgrind)[0]}
    lines = [
        "# Benchmarks",
        "",
        "statewright against hand-written code and the peer crates (rust-fsm,",
        "statig, finny, smlang), on seed 004's worker table without data, on a",
        "2-core x86-64 VM. Regenerate this file and the chart with one command:",
        "`benches/peers/report.py` (about 15 minutes). Wall time varies by up to",
        "±20 % between runs here; ratios are taken within one round, and",
        "instruction counts (callgrind) do not vary.",
        "",
        "![ns/event and clean-build seconds per implementation](benches/peers/chart.svg)",
        "",
        "## Dispatch: one machine, 10 million events (20 % illegal)",
        "",
        "`cd benches/peers && cargo run --release`: 15 interleaved rounds, each",
        "running every implementation once in a shuffled order; ratios to the",
        "hand-written `match` of the same round.",
        "",
        "| implementation | ns/event (median) | vs hand `match` (median) | min..max | instructions/event |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in one:
        lines.append(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {instructions.get(row[0], '')} |")
    lines += [
        "",
        "## Dispatch: 100,000 machines in a `Vec`, 8 events each",
        "",
        "| implementation | ns/event (median) | vs hand `match` (median) | min..max |",
        "|---|---:|---:|---:|",
    ]
    for row in fleet:
        lines.append(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} |")
    lines += [
        "",
        "## Compile time: a 40-state, 160-edge machine",
        "",
        "`benches/peers/compile-times.py`: one tiny crate per implementation",
        "(statewright with `default-features = false`, and with the `picture`",
        f"feature), clean and leaf (`touch`) release builds, interleaved, {reps}",
        "repetitions, medians in seconds.",
        "",
        "| implementation | clean build | leaf build | crates |",
        "|---|---:|---:|---:|",
    ]
    for row in build_table:
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "statewright alone, leaf builds:",
        "",
        "| states | edges | leaf build (s) |",
        "|---:|---:|---:|",
    ]
    for row in sweep:
        lines.append("| " + " | ".join(row) + " |")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
