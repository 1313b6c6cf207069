"""A write-only file object that hands libsndfile's output over as it appears.

soundfile gives libsndfile any object with ``seek``/``tell``/``write`` as a
file ("virtual IO"). This one keeps only the bytes not yet taken, so an
encoder's output can be sent while it is still writing. Libsndfile may seek
back to patch a header when it closes (the MP3 encoder rewrites its first
frame with the LAME/Xing summary); a patch that lands in bytes still held is
applied, one that lands in bytes already taken cannot be and is counted in
``lost_rewrites`` instead.
"""

from __future__ import annotations

import os


class ByteSink:
    def __init__(self) -> None:
        self._held = bytearray()  # bytes from offset self._taken to the end
        self._taken = 0
        self._pos = 0
        self.lost_rewrites = 0  # bytes written over data already taken

    # --- the file interface libsndfile uses ---
    def write(self, data: bytes) -> int:
        data = memoryview(data).cast("B")
        count = len(data)
        start = self._pos
        if start < self._taken:
            skipped = min(count, self._taken - start)
            self.lost_rewrites += skipped
            data = data[skipped:]
            start += skipped
        if len(data):
            offset = start - self._taken
            end = offset + len(data)
            if end > len(self._held):
                self._held.extend(bytes(end - len(self._held)))  # also fills a gap after a seek past the end
            self._held[offset:end] = data
        self._pos += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._pos + offset
        elif whence == os.SEEK_END:
            position = self._taken + len(self._held) + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        # Nothing written can be read back (it may already be sent); libsndfile
        # does not read a file it opened for writing.
        return b""

    # --- for the encoder ---
    def take(self) -> bytes:
        """Every byte written since the last ``take``, in file order."""
        data = bytes(self._held)
        self._taken += len(self._held)
        self._held.clear()
        return data
