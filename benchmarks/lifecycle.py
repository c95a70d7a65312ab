"""Benchmark: synthetic cases through the whole pathway, against bare state machines.

For each size (default 1,000, 10,000 and 100,000 cases), ``--runs`` times
(median reported; at least 5 for a full run), all in one process, the sizes
interleaved run by run (smallest first on even runs, largest first on odd
ones) so that a burst of load from other work on the shared machine falls on
every size alike: the commands of every case are built afresh with
``chronic_na.testing.full_pathway`` (12 commands a case, from ``open_case`` to
``step_back_to_school``; timed on its own; built afresh so that only this
size's data is in the heap while it runs), and then, one after the other:

* **library**: every case is opened with ``Lifecycle.open`` and driven with
  ``Case.execute``, breadth first (step 1 for every case, then step 2...), so
  that all cases of the size are open and in memory at once, as in a store
  of live cases. Each command checks its role, its state and all its rules
  and records one event;
* **replay**: every completed case is rebuilt from its events with
  ``Lifecycle.replay`` (no rule is checked again), the events read from the
  cases beforehand (a case builds its ``Event`` objects when read; that read
  is timed apart and reported, as a store's decoding would be); a sample is
  compared with
  the live case;
* **transitions**: the same commands fire the same triggers on one
  ``transitions.Machine`` built from the same lifecycle table (no model
  attached, ``machine.events[command.name].trigger(model, role)``, the
  flyweight pattern the library uses), each transition guarded by one
  condition (the command's role is allowed), on one slotted model object per
  case;
* **dict**: a bare dict state machine: ``table[(model.state, command.name)]``.

Ratios (library to transitions, command to replay, and 100k to 10k for the
scaling target) are taken run by run, between figures measured seconds apart,
and their median reported (the ratio of the medians is kept beside it). The
garbage collector stays enabled (collected before each side of each run); the
time it takes inside each side is clocked with ``gc.callbacks`` and
reported, as are minor page faults and resident memory with the cases live.

Memory is measured with ``tracemalloc``: a completed case with its events
and their commands, with free text that costs nothing per case (one string
shared by every case; literally empty text is refused by the IACF rules),
then with one-character text (thin, so it records warnings) and with
``full_pathway``'s own synthetic text; and, for comparison, what
``transitions`` alone costs per model attached with ``add_model`` to a
machine of the same table, and per machine built for one case.

The JSON records the commit and whether the code that ran differs from it:
every loaded ``chronic_na`` module and this script are compared blob by blob
with the commit's. ``--committed`` measures HEAD exactly, from a ``git
archive`` of it in a temporary directory (the working tree is shared and may
hold other people's uncommitted changes).

Usage::

    python benchmarks/lifecycle.py --committed     # full run of HEAD: 1k, 10k, 100k; 5 runs each
    python benchmarks/lifecycle.py                 # the same on the working tree
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
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from transitions import Machine

from chronic_na.lifecycle import DEFAULT_TABLE, Case, Event, Lifecycle, LifecycleTable
from chronic_na.pathway import Command, State
from chronic_na.records import Role
from chronic_na.testing import LONDON, full_pathway

ROOT = Path(__file__).resolve().parent.parent
# The repository (for git); another when run from an export of a commit (--committed).
REPO = Path(os.environ.get("CHRONIC_NA_BENCH_REPO", ROOT))
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


def run_library(lifecycle: Lifecycle, steps: list[list[Command]]) -> tuple[list[Case], list[float]]:
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


def read_events(cases: list[Case]) -> tuple[list[tuple[Event, ...]], float]:
    """Every case's events, as a store's load hands them to replay (a case
    builds its events when read); seconds, timed apart from the replay."""
    t0 = time.perf_counter()
    events = [case.events for case in cases]
    return events, time.perf_counter() - t0


def run_replay(lifecycle: Lifecycle, events: list[tuple[Event, ...]]) -> float:
    """Rebuild every case from its events; seconds."""
    t0 = time.perf_counter()
    for history in events:
        lifecycle.replay(history)
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


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def one_run(
    lifecycle: Lifecycle, n: int, machine: Machine, table: dict[tuple[State, str], State]
) -> dict[str, Any]:
    """One run of one size: the commands built afresh (so that only this size's
    data is in the heap), then library, replay, transitions and dict in turn."""
    t0 = time.perf_counter()
    commands = build_commands(n)
    build = time.perf_counter() - t0
    steps = columns(commands)
    del commands
    gc.collect()
    faults = _minor_faults()
    with CollectorClock() as library_gc:
        cases, library = run_library(lifecycle, steps)
    library_faults = _minor_faults() - faults
    rss = _rss_mib()
    gc.collect()
    events, reading = read_events(cases)
    with CollectorClock() as replay_gc:
        replay = run_replay(lifecycle, events)
    del events
    sample = cases[:: max(1, n // 100)]
    same = all(lifecycle.replay(c.events) == c for c in sample)
    assert all(c.state is State.STEPPED_BACK for c in cases)
    del cases, sample
    gc.collect()
    with CollectorClock() as transitions_gc:
        bare = run_transitions(machine, steps)
    gc.collect()
    with CollectorClock() as dict_gc:
        plain = run_dict(table, steps)
    del steps
    gc.collect()
    return {
        "build": build,
        "library": library,
        "replay": replay,
        "read_events": reading,
        "transitions": bare,
        "dict": plain,
        "collector": {
            "library": (library_gc.seconds, library_gc.collections),
            "replay": (replay_gc.seconds, replay_gc.collections),
            "transitions": (transitions_gc.seconds, transitions_gc.collections),
            "dict": (dict_gc.seconds, dict_gc.collections),
        },
        "library_minor_faults": library_faults,
        "rss_mib_with_cases": rss,
        "replay_equals_live": same,
    }


def _med(values: Sequence[float]) -> float:
    return statistics.median(values)


def summarise(n: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of one size from its runs. Ratios are taken run by run
    (the two sides of a ratio ran seconds apart in the same run) and their
    median reported; the ratio of the medians is kept beside it."""
    per_case = len(runs[0]["library"])
    total = n * per_case

    def us(seconds: float, per: int = total) -> float:
        return seconds / per * 1e6

    library = [us(sum(r["library"])) for r in runs]
    replay = [us(r["replay"]) for r in runs]
    bare = [us(sum(r["transitions"])) for r in runs]
    plain = [us(sum(r["dict"])) for r in runs]
    collector = [us(r["collector"]["library"][0]) for r in runs]
    library_nogc = [lib - c for lib, c in zip(library, collector, strict=True)]
    bare_nogc = [b - us(r["collector"]["transitions"][0]) for b, r in zip(bare, runs, strict=True)]
    to_transitions = [lib / b for lib, b in zip(library, bare, strict=True)]
    to_replay = [lib / rp for lib, rp in zip(library, replay, strict=True)]
    rules = {t.name: len(t.rules) for t in DEFAULT_TABLE.transitions}
    names = [c.name for c in next(iter(build_commands(1, prefix="N")))]
    per_command = []
    for k, name in enumerate(names):
        lib_k = [us(r["library"][k], n) for r in runs]
        tr_k = [us(r["transitions"][k], n) for r in runs]
        per_command.append(
            {
                "command": name,
                "rules": rules[name],
                "library_us": _med(lib_k),
                "transitions_us": _med(tr_k),
                "dict_us": _med([us(r["dict"][k], n) for r in runs]),
                "ratio_to_transitions": _med([a / b for a, b in zip(lib_k, tr_k, strict=True)]),
            }
        )
    return {
        "cases": n,
        "commands": total,
        "commands_per_case": per_case,
        "build_us_per_command": _med([us(r["build"]) for r in runs]),
        "library_us_per_command": _med(library),
        "replay_us_per_event": _med(replay),
        "read_events_us_per_event": _med([us(r["read_events"]) for r in runs]),
        "transitions_us_per_trigger": _med(bare),
        "dict_us_per_command": _med(plain),
        "library_to_transitions": _med(to_transitions),
        "library_to_transitions_runs": to_transitions,
        "library_to_transitions_of_medians": _med(library) / _med(bare),
        "library_to_dict": _med([lib / d for lib, d in zip(library, plain, strict=True)]),
        "command_to_replay": _med(to_replay),
        "command_to_replay_runs": to_replay,
        "collector_us_per_command": _med(collector),
        "library_us_per_command_without_collector": _med(library_nogc),
        "transitions_us_per_trigger_without_collector": _med(bare_nogc),
        "library_to_transitions_without_collector": _med(
            [a / b for a, b in zip(library_nogc, bare_nogc, strict=True)]
        ),
        "replay_equals_live": all(r["replay_equals_live"] for r in runs),
        "rss_mib_with_cases": max(r["rss_mib_with_cases"] for r in runs),
        "library_minor_faults_per_command": _med([r["library_minor_faults"] / total for r in runs]),
        "runs_us_per_command": {
            "library": library,
            "library_without_collector": library_nogc,
            "replay": replay,
            "transitions": bare,
            "dict": plain,
        },
        "collector": {
            side: {
                "seconds": [r["collector"][side][0] for r in runs],
                "collections_by_generation": [r["collector"][side][1] for r in runs],
            }
            for side in ("library", "replay", "transitions", "dict")
        },
        "per_command": per_command,
    }


def scaling(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Per-command cost at the larger size over that at the smaller, run by run
    (the two sizes of a run ran one after the other), for every side."""

    def paired(side: str) -> list[float]:
        a = large["runs_us_per_command"][side]
        b = small["runs_us_per_command"][side]
        return [x / y for x, y in zip(a, b, strict=True)]

    library = paired("library")
    return {
        "small": small["cases"],
        "large": large["cases"],
        "library": _med(library),
        "library_runs": library,
        "library_of_medians": large["library_us_per_command"] / small["library_us_per_command"],
        "library_without_collector": _med(paired("library_without_collector")),
        "replay": _med(paired("replay")),
        "transitions": _med(paired("transitions")),
        "dict": _med(paired("dict")),
    }


# ---------------------------------------------------------------- provenance


def _git(*args: str, cwd: Path = REPO) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(commit: str) -> dict[str, Any]:
    """Whether the code this process runs is the code of ``commit``: every
    loaded ``chronic_na`` module's file, and this script, compared blob by blob
    with the commit's (``git hash-object`` against ``git ls-tree``)."""
    import chronic_na

    package = Path(chronic_na.__file__).resolve().parent
    files: dict[str, Path] = {"benchmarks/lifecycle.py": Path(__file__).resolve()}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] == "chronic_na" and path:
            rel = Path(path).resolve().relative_to(package.parent)
            files[f"src/{rel.as_posix()}"] = Path(path).resolve()
    listed = _git("ls-tree", "-r", commit, "--", "src", "benchmarks/lifecycle.py")
    blobs = {
        line.split("\t", 1)[1]: line.split()[2] for line in listed.splitlines() if "\t" in line
    }
    paths = sorted(files)
    hashed = subprocess.run(
        ["git", "hash-object", "--no-filters", "--stdin-paths"],
        cwd=REPO,
        input="\n".join(str(files[p]) for p in paths) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    differing = [p for p, h in zip(paths, hashed, strict=True) if blobs.get(p) != h]
    return {
        "loaded_from": str(package),
        "files_checked": len(paths),
        "differing_from_commit": differing,
        "src_modified": any(p.startswith("src/") for p in differing),
        "benchmark_modified": "benchmarks/lifecycle.py" in differing,
    }


def run_committed(commit: str, argv: list[str], out: Path) -> int:
    """Run this benchmark on ``commit`` exactly: its tree exported with
    ``git archive`` to a temporary directory, this script re-run from there
    with that ``src`` first on ``sys.path`` (the shared working tree may hold
    other people's uncommitted changes)."""
    with tempfile.TemporaryDirectory(prefix="chronic-na-bench-") as tmp:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [f"{tmp}/src", os.environ.get("PYTHONPATH")])
            ),
            "CHRONIC_NA_BENCH_COMMIT": commit,
            "CHRONIC_NA_BENCH_REPO": str(REPO),
        }
        rest = [a for a in argv if a != "--committed"]
        cmd = [sys.executable, f"{tmp}/benchmarks/lifecycle.py", *rest, "--out", str(out)]
        return subprocess.run(cmd, env=env, check=False).returncode


def targets(
    sizes: list[dict[str, Any]], scaled: dict[str, Any], memory: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each target of the issue, its figure and whether it is met."""
    worst_tr = max(s["library_to_transitions"] for s in sizes)
    worst_replay = min(s["command_to_replay"] for s in sizes)
    case = memory["case_bytes_empty_text"]
    per_model = memory["transitions_add_model_bytes_per_model"]
    return [
        {
            "id": "scaling",
            "statement": f"per-command cost at {scaled['large']:,} cases at most "
            f"{SCALING_LIMIT}x that at {scaled['small']:,}",
            "figure": scaled["library"],
            "limit": SCALING_LIMIT,
            "met": scaled["library"] <= SCALING_LIMIT,
        },
        {
            "id": "vs-transitions",
            "statement": f"a command with all its rules and its event at most "
            f"{TRANSITIONS_LIMIT}x a bare transitions trigger with one condition "
            "(mean over the pathway's commands, worst size)",
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


def stricter(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The stricter reading of the transitions target: every command on its own."""
    worst = max(
        ((s["cases"], c) for s in sizes for c in s["per_command"]),
        key=lambda sc: sc[1]["ratio_to_transitions"],
    )
    over = sorted(
        {
            c["command"]
            for s in sizes
            for c in s["per_command"]
            if c["ratio_to_transitions"] > TRANSITIONS_LIMIT
        }
    )
    return {
        "statement": f"every command on its own at most {TRANSITIONS_LIMIT}x the same "
        "trigger on transitions (every size)",
        "worst_command": worst[1]["command"],
        "worst_command_rules": worst[1]["rules"],
        "worst_size": worst[0],
        "figure": worst[1]["ratio_to_transitions"],
        "limit": TRANSITIONS_LIMIT,
        "commands_over_limit": over,
        "met": not over,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated numbers of cases (default 1k,10k,100k)")
    parser.add_argument("--runs", type=int, default=5, help="runs per size (median reported)")
    parser.add_argument("--memory-cases", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 runs: a smoke run")
    parser.add_argument("--no-write", action="store_true", help="print only; write no JSON")
    parser.add_argument(
        "--committed",
        action="store_true",
        help="measure HEAD exactly: run from a git archive of it, not the working tree",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/lifecycle.json")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    if args.committed and "CHRONIC_NA_BENCH_COMMIT" not in os.environ:
        return run_committed(_git("rev-parse", "HEAD"), args_list, args.out)
    if args.quick:
        sizes = list(QUICK_SIZES)
        args.runs = min(args.runs, 3)
        args.memory_cases = min(args.memory_cases, 100)
    else:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(FULL_SIZES)
    sizes = sorted(set(sizes))
    if len(sizes) < 2 or args.runs < 1:
        parser.error("give at least two sizes and one run")
    full = sizes == list(FULL_SIZES) and args.runs >= 5 and args.memory_cases >= 1_000
    commit = os.environ.get("CHRONIC_NA_BENCH_COMMIT") or _git("rev-parse", "HEAD")

    lifecycle = Lifecycle.for_policy()
    machine = transitions_machine()
    table = dict_machine()
    # Warm up: lazily built caches, the interpreter's specialisation.
    warm_steps = columns(build_commands(50, prefix="W"))
    run_library(lifecycle, warm_steps)
    run_transitions(machine, warm_steps)
    run_dict(table, warm_steps)
    case_bytes(lifecycle, 20, SHARED_TEXT)
    load_before = os.getloadavg()
    started = time.perf_counter()

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

    # Sizes interleaved run by run (largest first on odd runs), so that a burst
    # of load from other work on the machine falls on every size alike.
    raw: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    for run in range(args.runs):
        for n in sizes if run % 2 == 0 else reversed(sizes):
            r = one_run(lifecycle, n, machine, table)
            raw[n].append(r)
            total = n * len(r["library"])
            print(
                f"  run {run + 1}/{args.runs} {n:>7,} cases: library "
                f"{sum(r['library']) / total * 1e6:.2f} us/cmd "
                f"({r['collector']['library'][0] / total * 1e6:.2f} in the collector), "
                f"replay {r['replay'] / total * 1e6:.2f} us/event, transitions "
                f"{sum(r['transitions']) / total * 1e6:.2f} us/trigger, "
                f"dict {sum(r['dict']) / total * 1e6:.3f} us; load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
    results = [summarise(n, raw[n]) for n in sizes]
    scaled = scaling(results[-2], results[-1])
    checked = targets(results, scaled, memory)
    strict = stricter(results)
    source = provenance(commit)

    for s in results:
        print(
            f"{s['cases']:>7,} cases: library {s['library_us_per_command']:.2f} us/command "
            f"({s['library_to_transitions']:.2f}x transitions "
            f"{s['transitions_us_per_trigger']:.2f} us, {s['library_to_dict']:.0f}x dict "
            f"{s['dict_us_per_command']:.3f} us); replay {s['replay_us_per_event']:.2f} us/event "
            f"({s['command_to_replay']:.1f}x cheaper; reading the events "
            f"{s['read_events_us_per_event']:.2f} us/event); building commands "
            f"{s['build_us_per_command']:.2f} us/command"
        )
    print(
        f"scaling {scaled['large']:,}/{scaled['small']:,}: library {scaled['library']:.3f} "
        f"(without the collector {scaled['library_without_collector']:.3f}), transitions "
        f"{scaled['transitions']:.3f}, dict {scaled['dict']:.3f}, replay {scaled['replay']:.3f}"
    )
    for t in checked:
        print(f"{'met    ' if t['met'] else 'NOT MET'} {t['statement']}: {t['figure']:,.2f}")
    print(
        f"{'met    ' if strict['met'] else 'NOT MET'} (stricter reading) {strict['statement']}: "
        f"worst {strict['worst_command']} {strict['figure']:.2f}"
    )
    print(f"source: {source}")

    result = {
        "benchmark": "lifecycle",
        "commit": commit,
        "src_modified": source["src_modified"],
        "benchmark_modified": source["benchmark_modified"],
        "provenance": source,
        # A benchmark records when it ran; the library itself never reads the clock.
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),  # noqa: TID251
        "wall_seconds": time.perf_counter() - started,
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "transitions": version("transitions"),
            "attrs": version("attrs"),
            "note": "shared, noisy machine: other work ran on it at the same time",
        },
        "full": full,
        "runs": args.runs,
        "gc": "enabled (collected before each side of each run)",
        "traversal": "breadth first: every case opened, then each step given to every case",
        "interleaving": "sizes alternate run by run (largest first on odd runs); within a "
        "run of a size, library, replay, transitions and dict in turn; ratios are taken "
        "run by run and their median reported",
        "sizes": results,
        "scaling": scaled,
        "memory": memory,
        "targets": checked,
        "all_met": all(t["met"] for t in checked),
        "stricter_reading": strict,
    }
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
