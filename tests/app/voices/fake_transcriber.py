"""A stand-in for PhoWhisper that the test servers load through TRANSCRIBER_FACTORY.

Controlled through files in ``FAKE_TRANSCRIBER_DIR``: ``mode`` holds ``ok``
(default), ``empty`` or ``fail``; every call appends the calling thread's name
and the clip's length to ``calls``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

FAKE_TRANSCRIPT = "đây là bản ghi do máy nhận dạng."


class FakeTranscriber:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str:
        seconds = len(wav) / sample_rate
        with (self.folder / "calls").open("a", encoding="utf-8") as log:
            log.write(f"{threading.current_thread().name}\t{sample_rate}\t{seconds:.3f}\n")
        mode_file = self.folder / "mode"
        mode = mode_file.read_text().strip() if mode_file.exists() else "ok"
        if mode == "fail":
            raise RuntimeError("the fake transcriber was told to fail")
        if mode == "empty":
            return ""
        return FAKE_TRANSCRIPT


def make(settings: Any) -> FakeTranscriber:
    return FakeTranscriber(Path(os.environ["FAKE_TRANSCRIBER_DIR"]))


class FakeControl:
    """The test side of the fake: set the mode, read the calls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def set_mode(self, mode: str) -> None:
        (self.folder / "mode").write_text(mode)

    def calls(self) -> list[tuple[str, int, float]]:
        path = self.folder / "calls"
        if not path.exists():
            return []
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        return [(thread, int(rate), float(seconds)) for thread, rate, seconds in rows]
