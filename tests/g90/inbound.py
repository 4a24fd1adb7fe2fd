"""What a session or cloud stream delivers, with each frame's message decoded.

`Session.receive` gives each frame's message type (`Inbound.kind`) and decodes
the message only on demand (`Inbound.message`); so does `CloudStream.receive`
(its frames carry no events and no reply). The tests compare whole decoded
messages, so these helpers put the decoded message where the tuple holds the type.
"""

from __future__ import annotations

from custom_components.g90_cloud.g90.events import PanelEvent
from custom_components.g90_cloud.g90.messages import Message
from custom_components.g90_cloud.g90.session import Inbound

Decoded = tuple[bytes, Message, tuple[PanelEvent, ...], bytes]


def decoded(inbound: list[Inbound]) -> list[Decoded]:
    """`(frame, message, events, reply)` for each item, its message decoded."""
    return [(item.frame, item.message, item.events, item.reply) for item in inbound]


def decoded_cloud(received: list[Inbound]) -> list[tuple[bytes, Message]]:
    """`(frame, message)` for each frame from the cloud, its message decoded."""
    assert all(not item.events and not item.reply for item in received)
    return [(item.frame, item.message) for item in received]
