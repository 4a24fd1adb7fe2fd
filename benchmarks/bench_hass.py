"""The whole path in a real Home Assistant: a panel's frame written to the entity's new state.

What runs: Home Assistant 2026.10 from pytest-homeassistant-custom-component's
`hass` fixture, the one the test suite uses (real event loop, bus, state
machine, entity and device registries; storage kept in memory; no recorder,
history or frontend), with this integration set up through a real config
entry whose listener binds 127.0.0.1 port 0. Unlike the test suite, asyncio
debug mode is left off, as in production.

What talks to it: 100 `SimulatedPanel`s (the integration's own simulator:
asyncio streams in the same loop and process), each on its own connection.
Each says hello (the replies are checked byte for byte), then creates its
entities before anything is timed: a motion sensor's tamper report (zone 2),
a door closing (zone 1) and a disarm, leaving both zones off and the panel
disarmed. Then for 60 s each panel follows its own timeline, drawn from a
seeded generator so that no two panels fire in lockstep:

* an episode every 1-7 s (uniform; the first within 7 s of the start):
  45 % a door (zone 1) opens, and closes again 0.5-5 s later; 45 % motion
  (zone 2); 10 % the panel is armed away, or disarmed if it is armed, which a
  panel reports twice: a status change, then at once a JSON notification;
* a ping every 30 s and a hello every 60 s (the protocol's heartbeat), each
  at a phase drawn per panel.

A real home is much quieter; this pace gives about a thousand timed events a
minute over the 100 panels (about 33 frames/s), still far below what the
listener takes (see bench_listener).

What is timed: each event frame that must change an entity's state (door
open: the zone 1 binary sensor to `on`, door close: to `off`; motion: zone 2
to `on` when it is `off`; arming: the alarm panel entity to `armed_away` or
`disarmed`), from `time.perf_counter()` right before the simulated panel's
socket write (`SimulatedPanel.send` writes before it yields) to
`time.perf_counter()` first thing in a callback listening to `state_changed`
on Home Assistant's bus (`@callback` listeners run inside the state machine's
`async_set`, as the new state is written). One clock, one process, one loop.
An event is matched to the next state change of its entity to the state it
must bring; a panel never has two events in flight for one entity (it waits
for the first, 5 s at most, before sending the second). The time includes the
loopback write and read, waiting for the loop (other panels' events, Home
Assistant's own work, the simulated panels' coroutines), the listener and
its session, the hub and the entity update up to the state machine.

Not timed, and counted apart: event frames that change no state because the
entity already shows it (motion while the zone is still `on`: it clears 30 s
after the last motion), and the notification that repeats an arming. State
changes of the watched entities that no frame asked for (a motion zone
clearing) are counted too.

Printed besides the figures: what was sent, matched and left untimed; the
process's CPU time and the loop thread's wait for a CPU (other programs);
the garbage collector's passes (gc.callbacks), and for the slowest events
how much of their time was a collection: enough to tell a tail caused by
the machine or the collector from the integration's own cost.

How it runs: this module, which imports no Home Assistant code (the
harness's pytest plugin must patch Home Assistant before anything imports
it), calls `pytest.main` on `benchmarks/hass_path.py::test_frame_to_state`
with a small plugin, `Harness`, that hands the test a place for its figures
and collects failures and warnings; the figures are printed once pytest has
torn Home Assistant down and checked for lingering tasks, timers and threads.

Nothing is asserted about the figures; the run fails (exit 1) only when
something is wrong: a simulated panel got a wrong reply, an event's state
change never came, or the harness found something left behind or a warning.

Run: `scripts/bench`, or `scripts/run python -m benchmarks.bench_hass` after
`scripts/setup --bench`. G90_BENCH_QUICK=1: a short smoke run (5 s of
events). `--profile`: the timed part under cProfile, the heaviest functions
printed (the figures then include the profiler's cost).
"""

from __future__ import annotations

import argparse
from importlib.metadata import version
import os
from pathlib import Path
import platform
import sys
from typing import TYPE_CHECKING
import warnings

import pytest

if TYPE_CHECKING:
    from benchmarks.hass_path import Figures

BODY = Path(__file__).resolve().with_name("hass_path.py")
SLOWEST = 3
"""The slowest events listed, each with the garbage collection inside its time."""


class Harness:
    """A pytest plugin: gives the test a place for its figures; collects failures and warnings."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.figures: Figures | None = None
        self.failures: list[str] = []
        self.warnings: list[str] = []

    @pytest.fixture
    def bench_harness(self) -> Harness:
        return self

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:  # pytest has printed the traceback: its last line is enough here
            lines = report.longreprtext.strip().splitlines() or ["failed"]
            self.failures.append(f"{report.when}: {lines[-1]}")

    def pytest_warning_recorded(
        self, warning_message: warnings.WarningMessage, when: str, nodeid: str
    ) -> None:
        self.warnings.append(f"{when} {nodeid}: {warning_message.message}")


# --- the report ------------------------------------------------------------------------------


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counter.items())) or "none"


def report(harness: Harness, exit_code: int) -> int:
    """Print the figures; 1 when something went wrong (never because of a figure)."""
    from benchmarks import hass_path as body  # Home Assistant is imported by now

    figures = harness.figures or body.Figures()
    panels = body.PANELS
    print(f"G90 Cloud, frame to entity state in Home Assistant: {panels} simulated panels")
    print(
        f"  Python {platform.python_version()}, Home Assistant {version('homeassistant')}"
        f" (pytest-homeassistant-custom-component"
        f" {version('pytest-homeassistant-custom-component')}), {platform.machine()},"
        f" {os.cpu_count()} CPUs; asyncio debug {'on' if figures.loop_debug else 'off'}"
    )
    kinds = ", ".join(f"{kind} {weight} %" for kind, weight in body.EPISODES)
    print(
        f"  pace per panel: an episode every {body.EPISODE_GAP[0]:g}-{body.EPISODE_GAP[1]:g} s"
        f" ({kinds}), a door open {body.DOOR_OPEN_FOR[0]:g}-{body.DOOR_OPEN_FOR[1]:g} s,"
        f" a ping every {body.PING_EVERY:g} s, a hello every {body.HELLO_EVERY:g} s;"
        " phases drawn per panel"
    )
    print(
        f"  setup: entry loaded, listening on {body.HOST}:{figures.port}, in"
        f" {figures.setup_seconds:.2f} s; {panels} panels connected, said hello and created"
        f" their entities in {figures.warm_up_seconds:.2f} s"
    )
    sent = figures.sent
    frames = sum(sent.values())
    run_seconds = max(figures.run_seconds, 1e-9)
    print(
        f"  run: {figures.run_seconds:.1f} s of traffic ({body.RUN_SECONDS:g} s planned),"
        f" {frames / run_seconds:.1f} frames/s"
    )
    print(
        f"  CPU during the run: {figures.cpu_seconds:.2f} s"
        f" ({figures.cpu_seconds / run_seconds:.1%} of one core, Home Assistant and the"
        f" panels together); the loop waited for a CPU {figures.cpu_wait * 1000:.0f} ms"
    )
    collections = figures.collections
    passes = [end - start for start, end in collections.passes]
    generations = {f"gen {k}": v for k, v in collections.by_generation.items()}
    print(
        f"  garbage collections during the run: {len(passes)} ({counts(generations)}),"
        f" {sum(passes) * 1000:.1f} ms in all, the longest {ms(max(passes, default=0.0))} ms"
    )
    print(f"  frames sent: {frames} ({counts(sent)})")
    timed = figures.timed
    unmatched = sum(figures.unmatched.values())
    print(
        f"  events sent: {frames - sent['ping'] - sent['hello']};"
        f" due to change a state: {len(timed) + unmatched};"
        f" state changes matched: {len(timed)}; unmatched: {unmatched}"
        + (f" ({counts(figures.unmatched)})" if unmatched else "")
    )
    print(
        f"  events with no state change due (not timed): {sum(figures.untimed.values())}"
        f" ({counts(figures.untimed)})"
    )
    print(
        f"  state changes of watched entities no event asked for: {figures.unasked}"
        " (motion zones clearing 30 s after their last motion)"
    )
    every = sorted(event.seconds for event in timed)
    if every:
        print(f"  {'event':<12}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for kind in body.TIMED_KINDS:
            values = sorted(event.seconds for event in timed if event.kind == kind)
            if values:
                print(
                    f"  {kind:<12}{len(values):>7}{ms(percentile(values, 0.5)):>9}"
                    f"{ms(percentile(values, 0.99)):>9}{ms(values[-1]):>9}"
                )
        p50, p99 = ms(percentile(every, 0.5)), ms(percentile(every, 0.99))
    else:
        p50 = p99 = "n/a"
    print(f"frame to state p50 ({panels} panels): {p50} ms")
    print(f"frame to state p99 ({panels} panels): {p99} ms")
    if every:
        met = percentile(every, 0.99) <= body.TARGET_P99
        print(
            f"  max {ms(every[-1])} ms over {len(every)} events; target p99 <="
            f" {body.TARGET_P99 * 1000:g} ms: {'met' if met else 'NOT met'}"
        )
        slowest = sorted(timed, key=lambda event: event.seconds)[-SLOWEST:]
        print(
            "  slowest: "
            + "; ".join(
                f"{ms(event.seconds)} ms ({event.kind} at {event.sent - figures.start:.1f} s,"
                f" garbage collection {ms(collections.within(event.sent, event.written))} ms)"
                for event in reversed(slowest)
            )
        )
    clean = exit_code == 0 and not harness.failures and not harness.warnings
    print(
        f"  shutdown: entry {'unloaded' if figures.unloaded else 'NOT unloaded'};"
        f" {'no' if clean else 'SOME'} lingering tasks, timers, threads or warnings"
        f" (the harness checks at teardown; pytest exit code {exit_code})"
    )
    for problem in figures.problems[:20]:
        print(f"  PROBLEM {problem}")
    for text in harness.failures + harness.warnings:
        print(f"  PROBLEM {text}")
    if figures.profile:
        print()
        print(figures.profile)
    failed = not clean or bool(figures.problems) or unmatched > 0 or not every
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="the timed run under cProfile")
    args = parser.parse_args()
    harness = Harness(args.profile)
    arguments = [f"{BODY}::test_frame_to_state", "-q", "--no-header", "-p", "no:cacheprovider"]
    # A failure shows a short traceback and what was logged at WARNING and above.
    arguments += ["--tb=short", "--show-capture=log", "-o", "log_level=WARNING"]
    exit_code = pytest.main(arguments, plugins=[harness])
    sys.stdout.flush()
    return report(harness, int(exit_code))


if __name__ == "__main__":
    sys.exit(main())
