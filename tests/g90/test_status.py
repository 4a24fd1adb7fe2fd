"""Traffic: the frames of one read, and the per-frame records built from them on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.g90_cloud.g90.messages import Ping, StatusChange
from custom_components.g90_cloud.g90.session import Session
from custom_components.g90_cloud.g90.status import MessageRecord, Traffic

from .frames import activity, hello
from .samples import GUID, PING

WHEN = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _traffic() -> Traffic:
    session = Session(cloud_ip="127.0.0.1", cloud_port=5678)
    frames = session.receive(hello(GUID) + activity(1, "Hall") + PING + activity(2, "Porch"))
    return Traffic(WHEN, "10.0.0.5:4000", GUID, "panel", frames)


def test_records_are_one_per_frame_in_order_with_their_events() -> None:
    traffic = _traffic()
    records = traffic.records()
    assert [record.frame for record in records] == [item.frame for item in traffic.frames]
    assert [type(record.message) for record in records] == [
        type(traffic.frames[0].message),
        StatusChange,
        Ping,
        StatusChange,
    ]
    assert [[event.zone_name for event in record.events] for record in records] == [
        [],
        ["Hall"],
        [],
        ["Porch"],
    ]
    assert records[1] == MessageRecord(
        WHEN, "10.0.0.5:4000", GUID, "panel", activity(1, "Hall"), traffic.frames[1].events
    )


def test_records_can_be_limited_to_the_last_ones() -> None:
    traffic = _traffic()
    assert traffic.records(last=2) == traffic.records()[2:]
    assert traffic.records(last=10) == traffic.records()
    assert traffic.records(last=0) == []
