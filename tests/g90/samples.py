"""Frames from the protocol notes (captured from real panels), as bytes."""

from __future__ import annotations

from typing import Final


def _hex(text: str) -> bytes:
    return bytes.fromhex(" ".join(text.split()))


GUID: Final = "GA00000A0000000"

HELLO: Final = _hex("""
01 10 00 20 48 00 00 00 01 00 00 00 47 41 30 30 30 30 30 41 30 30 30 30
30 30 30 00 00 00 00 00 00 00 00 00 02 00 00 00 00 70 00 00 32 30 37 00
58 ba 00 20 30 00 00 00 00 00 00 00 07 00 00 00 1e 00 00 00 1e 00 00 00
""")

HELLO_DISCOVERY: Final = _hex("""
01 30 00 20 3c 00 00 00 01 00 00 00 47 41 30 30 30 30 30 41 30 30 30 30
30 30 30 00 00 00 00 00 00 00 00 00 01 00 00 00 00 70 00 00 32 30 37 00
05 05 05 05 30 00 06 06 07 07 07 07
""")

PING: Final = _hex("01 10 00 00 08 00 00 00")

# Disarmed at 2025-01-25 08:34:40 UTC; bytes 2..35 of the payload are leftovers.
STATUS_DISARMED: Final = _hex("""
21 10 00 20 78 00 00 00 01 00 00 00 02 03 37 30 2c 5b 31 2c 5b 33 5d 5d
5d 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
20 a2 94 67""") + bytes(68)

# Sensor activity: zone 32 "Cord 1", source sensor, state door open.
STATUS_DOOR_OPEN: Final = (
    _hex("21 10 00 20 78 00 00 00 01 00 00 00 04 20 01 01")
    + b"Cord 1".ljust(32, b"\0")
    + _hex("b1 30 a2 67")
    + bytes(68)
)

# [170,[5,[101,"Cord 1"]]] + NUL
NOTIFICATION_ACTIVITY: Final = _hex("""
22 10 00 20 25 00 00 00 01 00 00 00 5b 31 37 30 2c 5b 35 2c 5b 31 30 31
2c 22 43 6f 72 64 20 31 22 5d 5d 5d 00
""")

COMMAND_RESPONSE: Final = _hex("""
01 00 00 20 3b 00 00 00 01 00 06 00 00 00 00 00 06 00 00 00 6a 00 6a 00
5b 31 30 36 2c 5b 39 30 30 2c 30 2c 30 2c 31 2c 32 2c 32 2c 36 30 2c 32
2c 30 2c 31 38 30 2c 32 5d 5d 00
""")

CLOUD_COMMAND: Final = _hex("29 50 00 10 17 00 00 00 01 00 06 00 02 00 64 00 64 00 05 00 00 00 00")

HELLO_REPLY_5678: Final = _hex("""
41 20 00 10 0d 00 00 00 01 00 01 00 01
01 20 00 10 0d 00 00 00 01 00 02 00 1f
63 20 00 10 10 00 00 00 01 00 03 00 2e 16 00 00
""")

PANEL_SAMPLES: Final = (
    HELLO,
    HELLO_DISCOVERY,
    PING,
    STATUS_DISARMED,
    STATUS_DOOR_OPEN,
    NOTIFICATION_ACTIVITY,
    COMMAND_RESPONSE,
)
ALL_SAMPLES: Final = (
    *PANEL_SAMPLES,
    CLOUD_COMMAND,
    HELLO_REPLY_5678[:13],
    HELLO_REPLY_5678[13:26],
    HELLO_REPLY_5678[26:],
)

# --- commands (g90-commands.md) ----------------------------------------------------

# The real cloud asking for the first page of the event history, sequence 5.
CLOUD_COMMAND_HISTORY: Final = _hex("""
29 50 00 10 23 00 00 00 01 00 05 00 02 00 c8 00 c8 00 05 00 00 00
5b 32 30 30 2c 5b 31 2c 31 30 5d 5d 00
""")

LOCAL_HOST_STATUS_REQUEST: Final = b'ISTART[100,100,""]IEND\0'
LOCAL_DISARM_REQUEST: Final = b"ISTART[101,101,[101,[3]]]IEND\0"
LOCAL_SENSORS_REQUEST: Final = b"ISTART[102,102,[102,[1,10]]]IEND\0"
LOCAL_HOST_STATUS_REPLY: Final = b'ISTART[100,[3,"PHONE","PRODUCT","206","206"]]IEND\0'
LOCAL_EMPTY_REPLY: Final = b"ISTARTIEND\0"

HOST_CONFIG_REPLY: Final = "[106,[900,0,0,1,2,2,60,2,0,180,2]]"
HOST_INFO_REPLY: Final = (
    '[206,["DUMMYGUID","DUMMYPRODUCT","1.2","1.1","206","206",3,3,0,2,"4242",50,100]]'
)
SENSOR_RECORD: Final = '["Cord 1",12,0,126,1,0,32,0,5,16,1,0,""]'
HISTORY_RECORD: Final = '[3,33,1,1,"Sensor 1",1630147285,""]'
