"""Benchmark: synthetic cases through the whole pathway, against bare state machines.

For each size (default 1,000, 10,000 and 100,000 cases) the commands of every
case are built once with ``chronic_na.testing.full_pathway`` (12 commands a
case, from ``open_case`` to ``step_back_to_school``; building them is timed
on its own), and then, ``--runs`` times (median reported; at least 5 for a
full run), in the same process and interleaved run by run:

* **library**: every case is opened with ``Lifecycle.open`` and driven with
  ``Case.execute``, breadth first (step 1 for every case, then step 2...), so
  that all cases of the size are open and in memory at once, as in a store
  of live cases. Each command checks its role, its state and all its rules
  and records one event;
* **replay**: every completed case is rebuilt from its events with
  ``Lifecycle.replay`` (no rule is checked again); a sample is compared with
  the live case;
* **transitions**: the same commands fire the same triggers on one
  ``transitions.Machine`` built from the same lifecycle table (no model
  attached, ``machine.events[command.name].trigger(model, role)``, the
  flyweight pattern the library uses), each transition guarded by one
  condition (the command's role is allowed), on one slotted model object per
  case;
* **dict**: a bare dict state machine: ``table[(model.state, command.name)]``.

Memory is measured with ``tracemalloc``: a completed case with its events
and their commands, with free text that costs nothing per case (one string
shared by every case; literally empty text is refused by the IACF rules),
then with one-character text (thin, so it records warnings) and with
``full_pathway``'s own synthetic text; and, for comparison, what
``transitions`` alone costs per model attached with ``add_model`` to a
machine of the same table, and per machine built for one case.

Usage::

    python benchmarks/lifecycle.py                 # full run: 1k, 10k, 100k; 5 runs each
    python benchmarks/lifecycle.py --quick         # smoke run at small sizes
    python benchmarks/lifecycle.py --sizes 1000,10000 --runs 7 --no-write

Writes ``benchmarks/results/lifecycle.json`` (with the commit id); then run
``python benchmarks/render_lifecycle.py`` to regenerate
``docs/benchmarks-lifecycle.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from transitions import Machine

from chronic_na.lifecycle import DEFAULT_TABLE, Case, Lifecycle, LifecycleTable
from chronic_na.pathway import Command, State
from chronic_na.records import Role
from chronic_na.testing import LONDON, full_pathway

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)  # a Monday
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000)
SHARED_TEXT = "Synthetic free text shared by every case, so that it costs nothing per case."

# The targets of issue 2, section 9.
SCALING_LIMIT = 1.15
TRANSITIONS_LIMIT = 2.0
REPLAY_LIMIT = 5.0
CASE_BYTES_LIMIT = 6_000


# ---------------------------------------------------------------- the cases


def build_commands(n: int, text: str | None = None, prefix: str = "C") -> list[list[Command]]:
    """The commands of ``n`` synthetic cases, each its own case id and pupil."""
    return [
        list(full_pathway(f"{prefix}-{i:06d}", START, pupil=f"P{i:06d}", text=text))
        for i in range(n)
    ]


def columns(commands: list[list[Command]]) -> list[list[Command]]:
    """Step by step: the k-th command of every case."""
    return [list(column) for column in zip(*commands, strict=True)]


def run_library(
    lifecycle: Lifecycle, steps: list[list[Command]]
) -> tuple[list[Case], list[float]]:
    """Open every case, then give each step to every case; seconds per step."""
    seconds = []
    t0 = time.perf_counter()
    cases = [lifecycle.open(command) for command in steps[0]]  # type: ignore[arg-type]
    seconds.append(time.perf_counter() - t0)
    for column in steps[1:]:
        t0 = time.perf_counter()
        for case, command in zip(cases, column, strict=True):
            case.execute(command)
        seconds.append(time.perf_counter() - t0)
    return cases, seconds


def run_replay(lifecycle: Lifecycle, cases: list[Case]) -> float:
    """Rebuild every case from its events; seconds."""
    t0 = time.perf_counter()
    for case in cases:
        lifecycle.replay(case.events)
    return time.perf_counter() - t0


# ---------------------------------------------------------------- the baselines


class Model:
    """The least a bare state machine needs per case: its state."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = State.NEW


def _role_in(roles: frozenset[Role]) -> Callable[..., bool]:
    def condition(role: Role, closed_from: State | None = None) -> bool:
        return role in roles

    return condition


def _restores_to(state: State, roles: frozenset[Role]) -> Callable[..., bool]:
    def condition(role: Role, closed_from: State | None = None) -> bool:
        return role in roles and closed_from is state

    return condition


def transitions_machine(table: LifecycleTable = DEFAULT_TABLE, model: Any = None) -> Machine:
    """A ``transitions`` machine of the same table: same states and triggers,
    one condition on each transition."""
    machine = Machine(
        model=model,
        states=list(State),
        initial=table.initial,
        auto_transitions=False,
        send_event=False,
    )
    for t in table.transitions:
        sources: list[Any] = sorted(t.sources, key=lambda s: s.value)
        if t.restore:
            for back_to in table.closure_reasons:
                machine.add_transition(
                    t.name, sources, back_to, conditions=[_restores_to(back_to, t.roles)]
                )
        else:
            machine.add_transition(t.name, sources, t.dest, conditions=[_role_in(t.roles)])
    return machine


def run_transitions(machine: Machine, steps: list[list[Command]]) -> list[float]:
    """Fire each step's trigger on one model per case; seconds per step."""
    models = [Model() for _ in steps[0]]
    events = machine.events
    seconds = []
    for column in steps:
        t0 = time.perf_counter()
        for model, command in zip(models, column, strict=True):
            if not events[command.name].trigger(model, command.actor.role):
                raise RuntimeError("transitions baseline refused a command")
        seconds.append(time.perf_counter() - t0)
    assert all(m.state is State.STEPPED_BACK for m in models)
    return seconds


def dict_machine(table: LifecycleTable = DEFAULT_TABLE) -> dict[tuple[State, str], State]:
    """(state, command name) -> next state; a command that records without
    moving the case maps to its own state. (The restoring command is left out:
    the pathway benchmarked does not reopen.)"""
    return {
        (source, t.name): t.dest or source
        for t in table.transitions
        if not t.restore
        for source in t.sources
    }


def run_dict(table: dict[tuple[State, str], State], steps: list[list[Command]]) -> list[float]:
    """Fire each step on one model per case; seconds per step."""
    models = [Model() for _ in steps[0]]
    seconds = []
    for column in steps:
        t0 = time.perf_counter()
        for model, command in zip(models, column, strict=True):
            model.state = table[(model.state, command.name)]
        seconds.append(time.perf_counter() - t0)
    assert all(m.state is State.STEPPED_BACK for m in models)
    return seconds


# ---------------------------------------------------------------- memory


def _traced(make: Callable[[], object]) -> int:
    """Bytes still allocated (tracemalloc) by what ``make`` returns, kept alive."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = make()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


def case_bytes(lifecycle: Lifecycle, n: int, text: str | None) -> float:
    """Bytes per completed case with its events (and their commands)."""

    def make() -> list[Case]:
        cases = []
        for commands in build_commands(n, text, prefix="M"):
            case = lifecycle.open(commands[0])  # type: ignore[arg-type]
            for command in commands[1:]:
                case.execute(command)
            assert case.state is State.STEPPED_BACK
            cases.append(case)
        return cases

    return _traced(make) / n


class PlainModel:
    """A model ``add_model`` accepts (it fails on slotted classes)."""

    def __init__(self) -> None:
        self.state = State.NEW


def transitions_add_model_bytes(n: int) -> float:
    """Bytes ``add_model`` adds per model to one machine of the same table
    (the models themselves exist before tracing starts)."""
    machine = transitions_machine()
    models = [PlainModel() for _ in range(n)]

    def make() -> None:
        for model in models:
            machine.add_model(model)

    result = _traced(make) / n
    assert len(machine.models) == n
    return result


def transitions_machine_per_case_bytes(n: int) -> float:
    """Bytes per case of building one machine of the same table for each case."""
    models = [PlainModel() for _ in range(n)]

    def make() -> list[Machine]:
        return [transitions_machine(model=model) for model in models]

    return _traced(make) / n


# ---------------------------------------------------------------- the run


class CollectorClock:
    """Time the cyclic garbage collector runs while installed (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def _median_us(runs: Sequence[float], per: int) -> float:
    return statistics.median(runs) / per * 1e6


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_size(lifecycle: Lifecycle, n: int, runs: int) -> dict[str, Any]:
    """Every figure of one size."""
    t0 = time.perf_counter()
    commands = build_commands(n)
    build_seconds = time.perf_counter() - t0
    steps = columns(commands)
    del commands
    per_case = len(steps)
    total = n * per_case
    machine = transitions_machine()
    table = dict_machine()
    library: list[list[float]] = []
    replay: list[float] = []
    bare: list[list[float]] = []
    plain: list[list[float]] = []
    clocks: dict[str, list[CollectorClock]] = {
        "library": [], "replay": [], "transitions": [], "dict": []
    }  # fmt: skip
    rss_with_cases = 0.0
    same = True
    for run in range(runs):
        gc.collect()
        with CollectorClock() as clock:
            cases, seconds = run_library(lifecycle, steps)
        library.append(seconds)
        clocks["library"].append(clock)
        rss_with_cases = max(rss_with_cases, _rss_mib())
        gc.collect()
        with CollectorClock() as clock:
            replay.append(run_replay(lifecycle, cases))
        clocks["replay"].append(clock)
        if run == 0:
            sample = cases[:: max(1, n // 100)]
            same = all(lifecycle.replay(c.events) == c for c in sample)
            assert all(c.state is State.STEPPED_BACK for c in cases)
        del cases
        gc.collect()
        with CollectorClock() as clock:
            bare.append(run_transitions(machine, steps))
        clocks["transitions"].append(clock)
        gc.collect()
        with CollectorClock() as clock:
            plain.append(run_dict(table, steps))
        clocks["dict"].append(clock)
        print(
            f"  {n:>7,} cases run {run + 1}/{runs}: library {sum(seconds) / total * 1e6:.2f} "
            f"us/cmd ({clocks['library'][-1].seconds / total * 1e6:.2f} in the collector), "
            f"replay {replay[-1] / total * 1e6:.2f} us/event, "
            f"transitions {sum(bare[-1]) / total * 1e6:.2f} us/trigger, "
            f"dict {sum(plain[-1]) / total * 1e6:.3f} us",
            file=sys.stderr,
        )
    library_us = _median_us([sum(s) for s in library], total)
    replay_us = _median_us(replay, total)
    transitions_us = _median_us([sum(s) for s in bare], total)
    dict_us = _median_us([sum(s) for s in plain], total)
    # The same runs without the time the cyclic collector took inside them.
    library_nogc = _median_us(
        [sum(s) - c.seconds for s, c in zip(library, clocks["library"], strict=True)], total
    )
    transitions_nogc = _median_us(
        [sum(s) - c.seconds for s, c in zip(bare, clocks["transitions"], strict=True)], total
    )
    rules = {t.name: len(t.rules) for t in DEFAULT_TABLE.transitions}
    per_command = []
    for k, column in enumerate(steps):
        name = column[0].name
        lib = _median_us([s[k] for s in library], n)
        tr = _median_us([s[k] for s in bare], n)
        per_command.append(
            {
                "command": name,
                "rules": rules[name],
                "library_us": lib,
                "transitions_us": tr,
                "dict_us": _median_us([s[k] for s in plain], n),
                "ratio_to_transitions": lib / tr,
            }
        )
    return {
        "cases": n,
        "commands": total,
        "commands_per_case": per_case,
        "build_us_per_command": build_seconds / total * 1e6,
        "library_us_per_command": library_us,
        "replay_us_per_event": replay_us,
        "transitions_us_per_trigger": transitions_us,
        "dict_us_per_command": dict_us,
        "library_to_transitions": library_us / transitions_us,
        "library_to_dict": library_us / dict_us,
        "command_to_replay": library_us / replay_us,
        "collector_us_per_command": _median_us([c.seconds for c in clocks["library"]], total),
        "library_us_per_command_without_collector": library_nogc,
        "transitions_us_per_trigger_without_collector": transitions_nogc,
        "library_to_transitions_without_collector": library_nogc / transitions_nogc,
        "replay_equals_live": same,
        "rss_mib_with_cases": rss_with_cases,
        "runs_seconds": {
            "library": [sum(s) for s in library],
            "replay": replay,
            "transitions": [sum(s) for s in bare],
            "dict": [sum(s) for s in plain],
        },
        "collector": {
            name: {
                "seconds": [c.seconds for c in runs_],
                "collections_by_generation": [c.collections for c in runs_],
            }
            for name, runs_ in clocks.items()
        },
        "per_command": per_command,
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def targets(sizes: list[dict[str, Any]], memory: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, its figure and whether it is met."""
    small, large = sizes[-2], sizes[-1]
    scaling = large["library_us_per_command"] / small["library_us_per_command"]
    worst_tr = max(s["library_to_transitions"] for s in sizes)
    worst_replay = min(s["command_to_replay"] for s in sizes)
    case = memory["case_bytes_empty_text"]
    per_model = memory["transitions_add_model_bytes_per_model"]
    return [
        {
            "id": "scaling",
            "statement": f"per-command cost at {large['cases']:,} cases at most "
            f"{SCALING_LIMIT}x that at {small['cases']:,}",
            "figure": scaling,
            "limit": SCALING_LIMIT,
            "met": scaling <= SCALING_LIMIT,
        },
        {
            "id": "vs-transitions",
            "statement": f"a command with all its rules and its event at most "
            f"{TRANSITIONS_LIMIT}x a bare transitions trigger with one condition "
            "(worst size)",
            "figure": worst_tr,
            "limit": TRANSITIONS_LIMIT,
            "met": worst_tr <= TRANSITIONS_LIMIT,
        },
        {
            "id": "replay",
            "statement": f"replay at least {REPLAY_LIMIT}x cheaper per event than a command "
            "(worst size)",
            "figure": worst_replay,
            "limit": REPLAY_LIMIT,
            "met": worst_replay >= REPLAY_LIMIT,
        },
        {
            "id": "case-memory",
            "statement": f"a completed case with its events (empty free text) at most "
            f"{CASE_BYTES_LIMIT:,} bytes by tracemalloc",
            "figure": case,
            "limit": CASE_BYTES_LIMIT,
            "met": case <= CASE_BYTES_LIMIT,
        },
        {
            "id": "case-memory-vs-transitions",
            "statement": "a completed case with its events (empty free text) costs less "
            "than transitions alone costs per attached model (add_model)",
            "figure": case,
            "limit": per_model,
            "met": case < per_model,
        },
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated numbers of cases (default 1k,10k,100k)")
    parser.add_argument("--runs", type=int, default=5, help="runs per size (median reported)")
    parser.add_argument("--memory-cases", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 runs: a smoke run")
    parser.add_argument("--no-write", action="store_true", help="print only; write no JSON")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/lifecycle.json")
    args = parser.parse_args(argv)
    if args.quick:
        sizes = list(QUICK_SIZES)
        args.runs = min(args.runs, 3)
        args.memory_cases = min(args.memory_cases, 100)
    else:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(FULL_SIZES)
    if len(sizes) < 2 or args.runs < 1:
        parser.error("give at least two sizes and one run")
    full = sizes == list(FULL_SIZES) and args.runs >= 5 and args.memory_cases >= 1_000

    lifecycle = Lifecycle.for_policy()
    # Warm up: lazily built caches, the interpreter's specialisation.
    warm_steps = columns(build_commands(50, prefix="W"))
    run_library(lifecycle, warm_steps)
    run_transitions(transitions_machine(), warm_steps)
    case_bytes(lifecycle, 20, SHARED_TEXT)
    load_before = os.getloadavg()

    print("memory (tracemalloc)...", file=sys.stderr)
    memory = {
        "cases": args.memory_cases,
        "case_bytes_empty_text": case_bytes(lifecycle, args.memory_cases, SHARED_TEXT),
        "case_bytes_one_char_text": case_bytes(lifecycle, args.memory_cases, "x"),
        "case_bytes_synthetic_text": case_bytes(lifecycle, args.memory_cases, None),
        "transitions_add_model_bytes_per_model": transitions_add_model_bytes(args.memory_cases),
        "transitions_machine_per_case_bytes": transitions_machine_per_case_bytes(
            max(1, args.memory_cases // 5)
        ),
    }
    print(
        "  case {case_bytes_empty_text:,.0f} B (empty text), "
        "{case_bytes_one_char_text:,.0f} B (1-char text), "
        "{case_bytes_synthetic_text:,.0f} B (synthetic text); transitions add_model "
        "{transitions_add_model_bytes_per_model:,.0f} B/model, machine per case "
        "{transitions_machine_per_case_bytes:,.0f} B".format(**memory),
        file=sys.stderr,
    )

    results = []
    for n in sizes:
        print(f"{n:,} cases...", file=sys.stderr)
        results.append(measure_size(lifecycle, n, args.runs))
        gc.collect()

    checked = targets(results, memory)
    for s in results:
        print(
            f"{s['cases']:>7,} cases: library {s['library_us_per_command']:.2f} us/command "
            f"({s['library_to_transitions']:.2f}x transitions "
            f"{s['transitions_us_per_trigger']:.2f} us, {s['library_to_dict']:.0f}x dict "
            f"{s['dict_us_per_command']:.3f} us); replay {s['replay_us_per_event']:.2f} us/event "
            f"({s['command_to_replay']:.1f}x cheaper); building commands "
            f"{s['build_us_per_command']:.2f} us/command"
        )
    for t in checked:
        print(f"{'met    ' if t['met'] else 'NOT MET'} {t['statement']}: {t['figure']:,.2f}")

    result = {
        "benchmark": "lifecycle",
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--", "src", "benchmarks")),
        # A benchmark records when it ran; the library itself never reads the clock.
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),  # noqa: TID251
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "transitions": version("transitions"),
            "attrs": version("attrs"),
            "note": "shared, noisy machine; median of --runs runs, interleaved",
        },
        "full": full,
        "runs": args.runs,
        "gc": "enabled (collected before each run)",
        "traversal": "breadth first: every case opened, then each step given to every case",
        "sizes": results,
        "memory": memory,
        "targets": checked,
        "all_met": all(t["met"] for t in checked),
    }
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
