"""Splitting a TCP byte stream into whole G90 messages ("frames").

The header's length field is the only framing the protocol has, so a length
that cannot be right (below the 8-byte header, or above MAX_FRAME_SIZE) leaves
no way to find the next frame: the stream is broken and its connection must be
closed. Everything before that point is still delivered.
"""

from __future__ import annotations

from .wire import BASIC_HEADER_SIZE, LENGTH_FIELD, LENGTH_OFFSET, MAX_FRAME_SIZE


class FramingError(Exception):
    """The stream holds a length field no frame can have; it cannot be resynchronised."""

    def __init__(self, length: int, header: bytes) -> None:
        """Describe the offending header."""
        super().__init__(
            f"impossible frame length {length} (allowed {BASIC_HEADER_SIZE}..{MAX_FRAME_SIZE}) "
            f"in header {header.hex(' ')}"
        )
        self.length = length
        self.header = header


class Framer:
    """Per-connection stream splitter: feed chunks, get complete frames.

    Holds at most one incomplete frame (< MAX_FRAME_SIZE bytes) between calls.
    After a framing error it keeps the error and yields nothing more.
    """

    __slots__ = ("_pending", "error", "max_frame_size")

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        """Start with an empty buffer."""
        self._pending = b""
        self.error: FramingError | None = None
        self.max_frame_size = max_frame_size

    @property
    def buffered(self) -> int:
        """Bytes held back as the start of an incomplete frame."""
        return len(self._pending)

    def take(self, data: bytes) -> bytes:
        """The bytes to split next: what was held back, then `data` (nothing once broken)."""
        if self.error is not None:
            return b""
        return self._pending + data if self._pending else data

    def keep(self, buffer: bytes, position: int) -> None:
        """Hold back the start of the incomplete frame at `position` until more arrives."""
        self._pending = buffer[position:] if position < len(buffer) else b""

    def broken(self, buffer: bytes, position: int, length: int) -> None:
        """Record the impossible `length` read at `position`; nothing more will be split."""
        self.error = FramingError(length, bytes(buffer[position : position + BASIC_HEADER_SIZE]))
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next chunk of the stream; return the frames it completes, in order.

        When the chunk reveals a broken stream, the frames before the break
        are returned and `error` is set. (Session.receive runs this same loop
        inline, decoding as it goes.)
        """
        buffer = self.take(data)
        frames: list[bytes] = []
        append = frames.append
        unpack_length = LENGTH_FIELD.unpack_from
        limit = self.max_frame_size
        position = 0
        end = len(buffer)
        while end - position >= BASIC_HEADER_SIZE:
            (length,) = unpack_length(buffer, position + LENGTH_OFFSET)
            if not BASIC_HEADER_SIZE <= length <= limit:
                self.broken(buffer, position, length)
                return frames
            stop = position + length
            if stop > end:
                break
            append(buffer[position:stop])
            position = stop
        self.keep(buffer, position)
        return frames
