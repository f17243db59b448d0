#!/usr/bin/env python3
"""Compile times: the same generated machine (40 states, 160 edges) as one
tiny crate per implementation, clean and leaf (`touch`) release builds,
interleaved and repeated; then statewright alone from 10 to 400 states.

Usage: benches/peers/compile-times.py [--reps N] [--out DIR]
Prints Markdown tables of the medians (seconds) and the crate counts.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ["a", "b", "c", "d"]


def edges(states):
    """Four named edges per state, to the next four states in a ring."""
    return [
        (i, event, (i + step + 1) % states)
        for i in range(states)
        for step, event in enumerate(EVENTS)
    ]


def statewright(states, picture=False):
    lines = ["use statewright::state_machine;", "", "#[state_machine]",
             "#[derive(Debug, Clone, Copy, PartialEq)]", "pub enum Big {"]
    for i in range(states):
        if i == 0:
            lines.append("    #[initial]")
        arrows = ", ".join(f"{e} => S{t}" for f, e, t in edges(states) if f == i)
        lines.append(f"    #[on({arrows})]")
        lines.append(f"    S{i},")
    lines.append("}")
    features = ', features = ["picture"]' if picture else ""
    dependency = f'statewright = {{ path = "{ROOT}", default-features = false{features} }}'
    return dependency, "\n".join(lines) + "\n"


def rust_fsm(states):
    lines = ["rust_fsm::state_machine! {", "    #[derive(Debug, Clone, Copy, PartialEq)]", "    big(S0)"]
    for i in range(states):
        arrows = ", ".join(f"{e.upper()} => S{t}" for f, e, t in edges(states) if f == i)
        lines.append(f"    S{i} => {{ {arrows} }},")
    lines.append("}")
    return 'rust-fsm = "0.8"', "\n".join(lines) + "\n"


def smlang(states):
    lines = ["smlang::statemachine! {", "    transitions: {"]
    for f, e, t in edges(states):
        star = "*" if f == 0 and e == "a" else ""
        lines.append(f"        {star}S{f} + {e.upper()} = S{t},")
    lines += ["    }", "}", "", "pub struct Context;", "impl StateMachineContext for Context {}"]
    return 'smlang = "0.8"', "\n".join(lines) + "\n"


def statig(states):
    lines = ["use statig::prelude::*;", "", "#[derive(Default)]", "pub struct Big;", "",
             "pub enum Event { " + ", ".join(e.upper() for e in EVENTS) + " }", "",
             '#[state_machine(initial = "State::s0()")]', "impl Big {"]
    for i in range(states):
        arms = "".join(f"Event::{e.upper()} => Transition(State::s{t}()), "
                       for f, e, t in edges(states) if f == i)
        lines.append(f"    #[state]\n    fn s{i}(event: &Event) -> Outcome<State> {{ match event {{ {arms}}} }}")
    lines.append("}")
    return 'statig = "0.4"', "\n".join(lines) + "\n"


def finny(states):
    lines = ["use finny::decl::{BuiltFsm, FsmBuilder};", "use finny::finny_fsm;", "",
             "#[derive(Default)]", "pub struct Context;"]
    lines += [f"#[derive(Default)] pub struct S{i};" for i in range(states)]
    lines += [f"#[derive(Clone)] pub struct {e.upper()};" for e in EVENTS]
    lines += ["", "#[finny_fsm]", "fn big(mut fsm: FsmBuilder<Big, Context>) -> BuiltFsm {",
              "    fsm.initial_state::<S0>();"]
    lines += [f"    fsm.state::<S{f}>().on_event::<{e.upper()}>().transition_to::<S{t}>();"
              for f, e, t in edges(states)]
    lines += ["    fsm.build()", "}"]
    return 'finny = "0.3"', "\n".join(lines) + "\n"


def hand_written(states):
    """The baseline: no dependency, a kind enum, an event enum and a `match`."""
    lines = ["#[derive(Debug, Clone, Copy, PartialEq)]", "pub enum Big {"]
    lines += [f"    S{i}," for i in range(states)]
    lines += ["}", "", "#[derive(Debug, Clone, Copy, PartialEq)]",
              "pub enum Event { " + ", ".join(e.upper() for e in EVENTS) + " }", "",
              "impl Big {", "    pub fn next(self, event: Event) -> Option<Self> {",
              "        match (self, event) {"]
    lines += [f"            (Self::S{f}, Event::{e.upper()}) => Some(Self::S{t}),"
              for f, e, t in edges(states)]
    lines += ["            #[allow(unreachable_patterns)]", "            _ => None,",
              "        }", "    }", "}"]
    return "", "\n".join(lines) + "\n"


IMPLEMENTATIONS = {
    "statewright": statewright,
    # The same with the rustdoc picture (a default feature of the full crate).
    "statewright-picture": lambda states: statewright(states, picture=True),
    "hand-written": hand_written,
    "rust-fsm": rust_fsm,
    "statig": statig,
    "finny": finny,
    "smlang": smlang,
}


def make_crate(directory, name, generate, states):
    dependency, source = generate(states)
    crate = directory / f"{name}-{states}"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(
        f'[package]\nname = "big-{name}"\nversion = "0.0.0"\nedition = "2021"\n'
        f"[dependencies]\n{dependency}\n[workspace]\n"
    )
    (crate / "src" / "lib.rs").write_text(source)
    return crate


def build(crate, clean):
    target = crate / "target"
    if clean and target.exists():
        shutil.rmtree(target)
    if not clean:
        (crate / "src" / "lib.rs").touch()
    start = time.monotonic()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=crate, check=True)
    return time.monotonic() - start


def crate_count(crate):
    tree = subprocess.run(
        ["cargo", "tree", "-e", "normal,build", "--prefix", "none"],
        cwd=crate, check=True, capture_output=True, text=True,
    ).stdout
    return len(set(line for line in tree.splitlines() if line.strip()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default="/tmp/statewright-compile-times")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    order = random.Random(4)

    crates = {name: make_crate(out, name, generate, 40) for name, generate in IMPLEMENTATIONS.items()}
    for crate in crates.values():  # fetch and warm the registry, not timed
        subprocess.run(["cargo", "fetch", "--quiet"], cwd=crate, check=True)
    clean = {name: [] for name in crates}
    leaf = {name: [] for name in crates}
    for _ in range(args.reps):
        names = list(crates)
        order.shuffle(names)
        for name in names:
            clean[name].append(build(crates[name], clean=True))
            leaf[name].append(build(crates[name], clean=False))
    print(f"40 states, 160 edges; {args.reps} interleaved repetitions; median seconds")
    print("| implementation | clean release build | leaf (touch) build | crates |")
    print("|---|---:|---:|---:|")
    for name, crate in crates.items():
        print(f"| {name} | {statistics.median(clean[name]):.2f} | "
              f"{statistics.median(leaf[name]):.2f} | {crate_count(crate)} |")

    print("\nstatewright alone: leaf (touch) release build, median seconds")
    print("| states | edges | leaf build |")
    print("|---:|---:|---:|")
    for states in [10, 50, 100, 200, 400]:
        crate = make_crate(out, "sweep", statewright, states)
        build(crate, clean=False)
        times = [build(crate, clean=False) for _ in range(args.reps)]
        print(f"| {states} | {states * 4} | {statistics.median(times):.2f} |")


if __name__ == "__main__":
    main()
