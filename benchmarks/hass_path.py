"""The body of bench_hass, run by pytest inside Home Assistant's test harness.

Only `benchmarks/bench_hass.py` runs it (naming this file on pytest's command
line, with its plugin); see that module for what is measured and how. It is
a module apart because Home Assistant must not be imported before the
harness's pytest plugin has patched it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import gc
import io
import os
import random
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.g90_cloud.const import (
    CONF_CLOUD_IP,
    CONF_CLOUD_PORT,
    CONF_LOCAL_IP,
    CONF_LOCAL_PORT,
    CONF_UPSTREAM_PORT,
    DOMAIN,
)
from custom_components.g90_cloud.g90.aio.simulator import SimulatedPanel
from custom_components.g90_cloud.g90.events import AlertSource
from custom_components.g90_cloud.g90.scenarios import Activity, Notify, PanelState
from custom_components.g90_cloud.hub import G90Hub

if TYPE_CHECKING:
    from benchmarks.bench_hass import Harness

QUICK = os.environ.get("G90_BENCH_QUICK") == "1"
HOST = "127.0.0.1"
PANELS = 100
RUN_SECONDS = 5.0 if QUICK else 60.0
SEED = 0x6790

EPISODE_GAP = (1.0, 7.0)
"""Seconds from one episode of a panel to its next (uniform)."""
DOOR_OPEN_FOR = (0.5, 5.0)
"""Seconds a door stays open (uniform)."""
EPISODES = (("door", 45), ("motion", 45), ("arming", 10))
"""Episode kinds and their weights."""
PING_EVERY = 30.0
HELLO_EVERY = 60.0
"""The protocol's heartbeat: a panel says hello about once a minute."""
MATCH_TIMEOUT = 5.0
"""How long an event's state change is waited for before it counts as unmatched."""
TARGET_P99 = 0.005
TIMED_KINDS = ("door open", "door close", "motion", "armed away", "disarmed")

DOOR = 1
MOTION = 2

# What each event frame of the run is, and which entity state it must bring.
FRAMES: dict[str, Activity | PanelState | Notify] = {
    "door open": Activity("door open", DOOR, "Front door", AlertSource.SENSOR, 1),
    "door close": Activity("door close", DOOR, "Front door", AlertSource.SENSOR, 0),
    "motion": Activity("motion", MOTION, "Hall motion", AlertSource.INFRARED, 0),
    "motion tamper": Activity("motion tamper", MOTION, "Hall motion", AlertSource.INFRARED, 1),
    "armed away": PanelState("armed away", "armed_away"),
    "disarmed": PanelState("disarmed", "disarmed"),
    "armed away notification": Notify("armed away notification", [170, [1, [1]]]),
    "disarmed notification": Notify("disarmed notification", [170, [1, [3]]]),
}
TARGETS = {
    "door open": ("door", "on"),
    "door close": ("door", "off"),
    "motion": ("motion", "on"),
    "armed away": ("alarm", "armed_away"),
    "disarmed": ("alarm", "disarmed"),
}
"""Event -> (which of the panel's entities, its new state)."""
WARM_UP = ("motion tamper", "door close", "disarmed")
"""Creates both zones and the alarm state, all of them off / disarmed."""


# --- each panel's timeline ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a panel does, `at` seconds after the run starts."""

    at: float
    action: str
    """An event of FRAMES, "arming" (armed away, or disarmed if armed), "ping" or "hello"."""


def timeline(rng: random.Random) -> list[Step]:
    """One panel's run: its episodes, pings and hellos, in time order."""
    steps: list[Step] = []
    kinds = [kind for kind, _ in EPISODES]
    weights = [weight for _, weight in EPISODES]
    at = rng.uniform(0.0, EPISODE_GAP[1])
    while at < RUN_SECONDS:
        kind = rng.choices(kinds, weights)[0]
        if kind == "door":
            closes = at + rng.uniform(*DOOR_OPEN_FOR)
            if closes >= RUN_SECONDS:
                break  # every door ends the run closed
            steps += [Step(at, "door open"), Step(closes, "door close")]
            at = closes
        else:
            steps.append(Step(at, kind))
        at += rng.uniform(*EPISODE_GAP)
    for action, every in (("ping", PING_EVERY), ("hello", HELLO_EVERY)):
        at = rng.uniform(0.0, every)
        while at < RUN_SECONDS:
            steps.append(Step(at, action))
            at += every
    steps.sort(key=lambda step: step.at)
    return steps


def panel_guid(index: int) -> str:
    """15 ASCII characters, distinct per panel."""
    return f"GH{index:013d}"


# --- matching frames to state changes ---------------------------------------------------


@dataclass(slots=True)
class Expected:
    """An event sent whose entity must take `state`."""

    kind: str
    state: str
    done: asyncio.Future[None]
    sent_at: float = 0.0


class Timed(NamedTuple):
    """One event timed: sent (its frame written) and written (its entity's new state)."""

    kind: str
    sent: float
    written: float

    @property
    def seconds(self) -> float:
        """Frame to state."""
        return self.written - self.sent


@dataclass(slots=True)
class Matcher:
    """Listens to state changes; times each against the event that asked for it."""

    watched: set[str] = field(default_factory=set)
    pending: dict[str, Expected] = field(default_factory=dict)
    timed: list[Timed] = field(default_factory=list)
    unasked: int = 0
    """State changes of watched entities that no sent event asked for."""
    unmatched: Counter[str] = field(default_factory=Counter)
    """Events whose state change did not come within MATCH_TIMEOUT."""

    @callback
    def state_changed(self, event: Event[EventStateChangedData]) -> None:
        """Runs inside the state machine's write: the time comes first."""
        now = time.perf_counter()
        entity_id = event.data["entity_id"]
        if entity_id not in self.watched:
            return
        expected = self.pending.get(entity_id)
        new_state = event.data["new_state"]
        if expected is None or new_state is None or new_state.state != expected.state:
            self.unasked += 1
            return
        del self.pending[entity_id]
        self.timed.append(Timed(expected.kind, expected.sent_at, now))
        expected.done.set_result(None)

    def expect(self, entity_id: str, kind: str, state: str) -> Expected:
        """Register an event about to be sent (one given up on before it is unmatched)."""
        if (given_up := self.pending.get(entity_id)) is not None:
            self.unmatched[given_up.kind] += 1
        expected = Expected(kind, state, asyncio.get_running_loop().create_future())
        self.pending[entity_id] = expected
        return expected

    async def settled(self, entity_id: str) -> None:
        """Until the entity's event in flight (if any) has its state change, at most 5 s."""
        if (expected := self.pending.get(entity_id)) is not None:
            await asyncio.wait([expected.done], timeout=MATCH_TIMEOUT)

    async def drain(self) -> None:
        """Until each event in flight has its state change (5 s at most); the rest are unmatched."""
        if self.pending:
            await asyncio.wait([e.done for e in self.pending.values()], timeout=MATCH_TIMEOUT)
        for expected in self.pending.values():
            self.unmatched[expected.kind] += 1
        self.pending.clear()


# --- the panels ------------------------------------------------------------------------------


@dataclass(slots=True)
class Panel:
    """A simulated panel, its entities and its timeline."""

    sim: SimulatedPanel
    steps: list[Step]
    entities: dict[str, str] = field(default_factory=dict)
    """"door", "motion", "alarm" -> entity id."""
    sent: Counter[str] = field(default_factory=Counter)
    untimed: Counter[str] = field(default_factory=Counter)
    alarm: str = "disarmed"


async def warm_up(panel: Panel) -> None:
    """Say hello, create the zones and the alarm state: entities exist before timing."""
    await panel.sim.hello()
    now = int(time.time())
    for action in WARM_UP:
        await panel.sim.send(action, FRAMES[action].frame(now))
    await panel.sim.ping()


def find_entities(hass: HomeAssistant, panel: Panel) -> list[str]:
    """The entity ids the run watches; problems if any is missing or not at rest."""
    registry = er.async_get(hass)
    guid = panel.sim.guid
    wanted = {
        "door": ("binary_sensor", f"{guid}_zone_{DOOR}", "off"),
        "motion": ("binary_sensor", f"{guid}_zone_{MOTION}", "off"),
        "alarm": ("alarm_control_panel", f"{guid}_alarm", "disarmed"),
    }
    problems = []
    for name, (platform_name, unique_id, at_rest) in wanted.items():
        entity_id = registry.async_get_entity_id(platform_name, DOMAIN, unique_id)
        state = hass.states.get(entity_id) if entity_id else None
        if entity_id is None or state is None:
            problems.append(f"panel {guid}: no {name} entity after warm-up")
            continue
        if state.state != at_rest:
            problems.append(f"panel {guid}: {entity_id} is {state.state} after warm-up")
        panel.entities[name] = entity_id
    return problems


async def play(hass: HomeAssistant, panel: Panel, matcher: Matcher, start: float) -> None:
    """Follow the panel's timeline; time each event that must change a state."""
    sim = panel.sim
    for step in panel.steps:
        delay = start + step.at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        action = step.action
        if action == "ping":
            await sim.ping()
            panel.sent["ping"] += 1
            continue
        if action == "hello":
            await sim.hello()
            panel.sent["hello"] += 1
            continue
        if action == "arming":
            action = "disarmed" if panel.alarm == "armed_away" else "armed away"
            panel.alarm = "armed_away" if action == "armed away" else "disarmed"
        target, new_state = TARGETS[action]
        entity_id = panel.entities[target]
        await matcher.settled(entity_id)
        state = hass.states.get(entity_id)
        frame = FRAMES[action].frame(int(time.time()))
        if state is not None and state.state == new_state:
            await sim.send(action, frame)
            panel.untimed[action] += 1
        else:
            expected = matcher.expect(entity_id, action, new_state)
            expected.sent_at = time.perf_counter()
            await sim.send(action, frame)
        panel.sent[action] += 1
        if target == "alarm":  # the panel repeats the arming as a JSON notification
            repeat = f"{action} notification"
            await sim.send(repeat, FRAMES[repeat].frame(int(time.time())))
            panel.sent[repeat] += 1
            panel.untimed[repeat] += 1


# --- the run ---------------------------------------------------------------------------------


@dataclass(slots=True)
class GcWatch:
    """The garbage collector's passes while installed in gc.callbacks: how many, how long."""

    by_generation: Counter[int] = field(default_factory=Counter)
    passes: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) of each pass, on the benchmark's clock."""
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
            return
        self.by_generation[info["generation"]] += 1
        self.passes.append((self._started, now))

    def within(self, start: float, end: float) -> float:
        """Seconds of garbage collection between start and end."""
        return sum(max(0.0, min(end, b) - max(start, a)) for a, b in self.passes)


@dataclass(slots=True)
class Figures:
    """What the run measured, for printing after pytest has torn everything down."""

    port: int = 0
    setup_seconds: float = 0.0
    warm_up_seconds: float = 0.0
    run_seconds: float = 0.0
    start: float = 0.0
    """When the run started, on the benchmark's clock."""
    loop_debug: bool = False
    sent: Counter[str] = field(default_factory=Counter)
    untimed: Counter[str] = field(default_factory=Counter)
    timed: list[Timed] = field(default_factory=list)
    unmatched: Counter[str] = field(default_factory=Counter)
    unasked: int = 0
    unloaded: bool = False
    problems: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    """CPU time of the whole process (Home Assistant and the panels) during the run."""
    cpu_wait: float = 0.0
    """Time the loop's thread was runnable but waited for a CPU (Linux), during the run."""
    collections: GcWatch = field(default_factory=GcWatch)
    profile: str = ""


def run_queue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux), else 0."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[1]) / 1e9
    except OSError, IndexError, ValueError:
        return 0.0


@contextlib.contextmanager
def profiled(enabled: bool, figures: Figures) -> Iterator[None]:
    """The timed part under cProfile, when asked."""
    if not enabled:
        yield
        return
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        out.write("--- the timed run, by own time ---\n")
        stats.sort_stats("tottime").print_stats(30)
        out.write("--- the timed run, by cumulative time ---\n")
        stats.sort_stats("cumulative").print_stats(40)
        figures.profile = out.getvalue()


async def run(hass: HomeAssistant, figures: Figures, profile: bool) -> None:
    """Set up the entry, connect the panels, play their timelines, unload."""
    figures.loop_debug = hass.loop.get_debug()
    started = time.perf_counter()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="G90 Cloud (benchmark)",
        data={
            CONF_LOCAL_IP: HOST,
            CONF_LOCAL_PORT: 0,
            CONF_CLOUD_IP: HOST,
            CONF_CLOUD_PORT: 5678,
            CONF_UPSTREAM_PORT: 5678,
        },
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        figures.problems.append(f"the config entry did not load: {entry.state}")
        return
    await hass.async_block_till_done()
    hub: G90Hub = entry.runtime_data
    figures.port = port = hub.listener.port
    figures.setup_seconds = time.perf_counter() - started

    matcher = Matcher()
    panels = [
        Panel(
            # Each panel from its own loopback address, as panels on a LAN have their own.
            SimulatedPanel(HOST, port, guid=panel_guid(index), source=f"127.0.9.{index + 1}"),
            timeline(random.Random(SEED + index)),
        )
        for index in range(PANELS)
    ]
    stop_listening = hass.bus.async_listen(EVENT_STATE_CHANGED, matcher.state_changed)
    try:
        await play_all(hass, panels, matcher, figures, profile)
    finally:
        stop_listening()
    figures.timed = matcher.timed
    figures.unmatched = matcher.unmatched
    figures.unasked = matcher.unasked
    for panel in panels:
        figures.sent.update(panel.sent)
        figures.untimed.update(panel.untimed)
        figures.problems += [
            f"panel {panel.sim.guid}: {text}" for text in panel.sim.result.problems
        ]
    await hass.async_block_till_done()
    figures.unloaded = await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def play_all(
    hass: HomeAssistant, panels: list[Panel], matcher: Matcher, figures: Figures, profile: bool
) -> None:
    """Connect and warm up every panel, play their timelines, then hang up."""
    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        for panel in panels:
            await stack.enter_async_context(panel.sim)
        await asyncio.gather(*(warm_up(panel) for panel in panels))
        await hass.async_block_till_done()
        for panel in panels:
            figures.problems += find_entities(hass, panel)
            matcher.watched.update(panel.entities.values())
        figures.warm_up_seconds = time.perf_counter() - started
        if figures.problems:
            return

        figures.start = start = time.perf_counter() + 0.1
        cpu, waited = time.process_time(), run_queue_wait()
        gc.callbacks.append(figures.collections)
        try:
            with profiled(profile, figures):
                await asyncio.gather(*(play(hass, panel, matcher, start) for panel in panels))
                figures.run_seconds = time.perf_counter() - start
                figures.cpu_seconds = time.process_time() - cpu
                figures.cpu_wait = run_queue_wait() - waited
                await matcher.drain()
        finally:
            gc.callbacks.remove(figures.collections)
        # A last ping each: every frame before it has been handled.
        await asyncio.gather(*(panel.sim.ping() for panel in panels))


# --- under pytest -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Replaces the harness's fixture of that name: Home Assistant runs without asyncio debug."""


async def test_frame_to_state(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    socket_enabled: None,
    bench_harness: Harness,
) -> None:
    """The benchmark body; its figures go to bench_hass's plugin, printed after teardown."""
    figures = bench_harness.figures = Figures()
    await run(hass, figures, bench_harness.profile)
