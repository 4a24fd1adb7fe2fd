"""Splitting a TCP byte stream into whole G90 messages ("frames").

The header's length field is the only framing the protocol has. A frame
longer than MAX_FRAME_SIZE is skipped: its bytes are discarded as they
arrive, never buffered, and only its header is passed on (so it can be
reported) before the stream goes on after it. A length no frame can have
(below the 8-byte header, or beyond MAX_SKIP_SIZE, which only garbage
announces) leaves no way to find the next frame: the stream is broken and its
connection must be closed. Everything before that point is still delivered.
"""

from __future__ import annotations

from .wire import (
    BASIC_HEADER_SIZE,
    LENGTH_FIELD,
    LENGTH_OFFSET,
    MAX_FRAME_SIZE,
    MAX_SKIP_SIZE,
    VERSIONED_HEADER_SIZE,
)


def is_skipped(frame: bytes) -> bool:
    """Whether a frame the framer passed on is only the header of a skipped, oversized one.

    Such a header must go no further (to the vendor cloud, say): its length field
    announces bytes that were discarded.
    """
    return len(frame) >= BASIC_HEADER_SIZE and (
        LENGTH_FIELD.unpack_from(frame, LENGTH_OFFSET)[0] != len(frame)
    )


class FramingError(Exception):
    """The stream holds a length field no frame can have; it cannot be resynchronised."""

    def __init__(self, length: int, header: bytes) -> None:
        """Describe the offending header."""
        super().__init__(
            f"impossible frame length {length} (a frame has {BASIC_HEADER_SIZE} to "
            f"{MAX_SKIP_SIZE} bytes) in header {header.hex(' ')}"
        )
        self.length = length
        self.header = header


class Framer:
    """Per-connection stream splitter: feed chunks, get complete frames.

    Holds at most one incomplete frame (< max_frame_size bytes) between calls.
    After a framing error it keeps the error and yields nothing more.
    """

    __slots__ = ("_pending", "_skipping", "error", "max_frame_size", "skipped")

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        """Start with an empty buffer."""
        self._pending = b""
        self._skipping = 0
        """Bytes of an oversized frame still to come, to be discarded."""
        self.error: FramingError | None = None
        self.max_frame_size = max_frame_size
        self.skipped = 0
        """Oversized frames skipped so far."""

    @property
    def buffered(self) -> int:
        """Bytes held back as the start of an incomplete frame (or of frames not taken yet)."""
        return len(self._pending)

    def feed(self, data: bytes, limit: int | None = None) -> list[bytes]:
        """Take the next chunk of the stream; return the frames it completes, in order.

        At most `limit` frames are returned; the rest stay buffered for the
        next call (with more data, or none). An oversized frame is returned
        as its first 12 bytes alone. When the chunk reveals a broken
        stream, the frames before the break are returned and `error` is set;
        from then on nothing more is split.
        """
        if self.error is not None:
            return []
        if self._skipping:
            if len(data) <= self._skipping:
                self._skipping -= len(data)
                return []
            data = data[self._skipping :]
            self._skipping = 0
        buffer = self._pending + data if self._pending else data
        frames: list[bytes] = []
        position = 0
        end = len(buffer)
        while end - position >= BASIC_HEADER_SIZE and (limit is None or len(frames) < limit):
            (length,) = LENGTH_FIELD.unpack_from(buffer, position + LENGTH_OFFSET)
            if not BASIC_HEADER_SIZE <= length <= MAX_SKIP_SIZE:
                header = bytes(buffer[position : position + BASIC_HEADER_SIZE])
                self.error = FramingError(length, header)
                self._pending = b""
                return frames
            stop = position + length
            if length > self.max_frame_size:
                if end - position < VERSIONED_HEADER_SIZE:
                    break  # its header is passed on whole, versioned or not
                self.skipped += 1
                frames.append(buffer[position : position + VERSIONED_HEADER_SIZE])
                if stop > end:
                    self._skipping = stop - end
                    stop = end
                position = stop
                continue
            if stop > end:
                break
            frames.append(buffer[position:stop])
            position = stop
        self._pending = buffer[position:]
        return frames
