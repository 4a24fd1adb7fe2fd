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

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next chunk of the stream; return the frames it completes, in order.

        When the chunk reveals a broken stream, the frames before the break
        are returned and `error` is set; from then on nothing more is split.
        """
        if self.error is not None:
            return []
        buffer = self._pending + data if self._pending else data
        frames: list[bytes] = []
        position = 0
        end = len(buffer)
        while end - position >= BASIC_HEADER_SIZE:
            (length,) = LENGTH_FIELD.unpack_from(buffer, position + LENGTH_OFFSET)
            if not BASIC_HEADER_SIZE <= length <= self.max_frame_size:
                header = bytes(buffer[position : position + BASIC_HEADER_SIZE])
                self.error = FramingError(length, header)
                self._pending = b""
                return frames
            stop = position + length
            if stop > end:
                break
            frames.append(buffer[position:stop])
            position = stop
        self._pending = buffer[position:]
        return frames
