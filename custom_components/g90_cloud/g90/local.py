"""The panel's local UDP protocol (port 12368), sans-I/O: datagrams in and out.

A request is `ISTART[code,code,body]IEND` and a NUL, where body is the
command body (`[code,[params]]`) or the JSON string `""`; a reply is
`ISTART` + payload + `IEND` and a NUL. `commands.py` reads the payload.

System commands use the same envelope with code 0: one datagram (no reply
comes) sets a panel's server address: system command 1 (set configuration),
item 78 (server address), with the address given twice, then the port.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import ipaddress
import json
from typing import Final

from .commands import Request, is_refusal, reply_code, request_from_value

PANEL_LOCAL_PORT: Final = 12368
ISTART: Final = b"ISTART"
IEND: Final = b"IEND"


def _datagram(payload: bytes) -> bytes:
    return ISTART + payload + IEND + b"\0"


def server_address_command(ip: str, port: int) -> bytes:
    """The datagram that points a panel at `ip:port` (an IPv4 address)."""
    address = ipaddress.IPv4Address(ip)  # raises ValueError for anything else
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return _datagram(f'[0,100,"AT^IWT=1,78={address}&{address}&{port},IWT"]'.encode("ascii"))


def local_request(request: Request) -> bytes:
    """The datagram for a command: `ISTART[code,code,body]IEND` and a NUL."""
    body = request.body() or b'""'
    return _datagram(b"[%d,%d,%s]" % (request.code, request.code, body))


def _payload(datagram: bytes) -> bytes | None:
    """What lies between ISTART and IEND (trailing NULs allowed); None if not framed so."""
    framed = datagram.rstrip(b"\0")
    if not (framed.startswith(ISTART) and framed.endswith(IEND)):
        return None
    return framed[len(ISTART) : -len(IEND)]


def parse_local_request(datagram: bytes) -> Request | None:
    """The command a request datagram carries; None for anything else (system commands too)."""
    payload = _payload(datagram)
    if payload is None:
        return None
    try:
        value = json.loads(payload.decode("utf-8", "replace"))
    except ValueError, RecursionError:
        return None
    if not (type(value) is list and len(value) == 3 and type(value[0]) is int):
        return None
    if value[1] != value[0]:
        return None
    return request_from_value(value[0], value[2])


def local_reply(text: str) -> bytes:
    """A reply datagram carrying this payload (what a panel sends)."""
    return _datagram(text.encode("utf-8"))


class ReplyKind(StrEnum):
    """What a reply datagram is."""

    DATA = "data"
    """A payload: `text` holds it, `code` the code it starts with (if readable)."""
    EMPTY = "empty"
    """`ISTARTIEND`: success with no data."""
    REFUSED = "refused"
    """`fail` or `error...`."""
    MALFORMED = "malformed"
    """Not between ISTART and IEND."""


@dataclass(frozen=True, slots=True)
class LocalReply:
    """A reply datagram, read; `text` is its payload (the whole datagram when malformed)."""

    kind: ReplyKind
    text: str
    code: int | None = None


def parse_local_reply(datagram: bytes) -> LocalReply:
    """Read a reply datagram. Never raises; invalid UTF-8 is replaced."""
    payload = _payload(datagram)
    if payload is None:
        return LocalReply(ReplyKind.MALFORMED, datagram.decode("utf-8", "replace"))
    text = payload.decode("utf-8", "replace")
    if not text.strip():
        return LocalReply(ReplyKind.EMPTY, text)
    if is_refusal(text):
        return LocalReply(ReplyKind.REFUSED, text)
    return LocalReply(ReplyKind.DATA, text, reply_code(text))
