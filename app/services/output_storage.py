"""Generated audio files under ``OUTPUT_DIR``: the audio of job X is ``X.wav``.

Names are checked against a strict pattern and resolved paths must stay in the
folder, so no request can read or delete anything outside ``OUTPUT_DIR``.
Writes go to a hidden temporary file first and are renamed into place, so a
file that exists is always complete, even after a crash mid-write.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from app.core.errors import InvalidNameError, OutputNotFoundError

# Output formats: extension, media type, writer. A later audio-format module
# registers more (mp3, opus, ...) with ``register_format``.
AudioWriter = Callable[[Path, np.ndarray, int], None]


@dataclass(frozen=True)
class AudioFormat:
    name: str
    extension: str
    media_type: str
    write: AudioWriter


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    sf.write(path, audio, sample_rate, subtype="PCM_16", format="WAV")


AUDIO_FORMATS: dict[str, AudioFormat] = {"wav": AudioFormat("wav", "wav", "audio/wav", _write_wav)}


def register_format(audio_format: AudioFormat) -> None:
    AUDIO_FORMATS[audio_format.name] = audio_format


OUTPUT_FILENAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")
_TEMP_PREFIX = ".partial-"


class OutputStorage:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def filename_for(self, job_id: str, fmt: str = "wav") -> str:
        return f"{job_id}.{AUDIO_FORMATS[fmt].extension}"

    def media_type_for(self, filename: str) -> str:
        extension = filename.rsplit(".", 1)[-1].lower()
        for audio_format in AUDIO_FORMATS.values():
            if audio_format.extension == extension:
                return audio_format.media_type
        return "application/octet-stream"

    def path_for(self, filename: str) -> Path:
        """The path of ``filename`` inside the folder; refuses anything that could leave it."""
        if not OUTPUT_FILENAME_PATTERN.fullmatch(filename) or ".." in filename:
            raise InvalidNameError(f"invalid output file name: {filename!r}")
        path = (self.root / filename).resolve()
        if path.parent != self.root:
            raise InvalidNameError(f"invalid output file name: {filename!r}")
        return path

    def existing_path(self, filename: str) -> Path:
        path = self.path_for(filename)
        if not path.is_file():
            raise OutputNotFoundError(f"no output file {filename!r}")
        return path

    def write(self, job_id: str, audio: np.ndarray, sample_rate: int, fmt: str = "wav") -> str:
        """Write atomically; returns the file name. Blocking: call it off the event loop."""
        audio_format = AUDIO_FORMATS[fmt]
        filename = self.filename_for(job_id, fmt)
        final_path = self.path_for(filename)
        temp_path = self.root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.{audio_format.extension}"
        try:
            audio_format.write(temp_path, audio, sample_rate)
            os.replace(temp_path, final_path)
        finally:
            temp_path.unlink(missing_ok=True)
        return filename

    def remove(self, filename: str) -> bool:
        path = self.root / filename if self._is_partial_name(filename) else self.path_for(filename)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def files(self) -> list[os.DirEntry[str]]:
        """Audio files and leftovers of interrupted writes (never other files such as .gitkeep)."""
        with os.scandir(self.root) as entries:
            return [
                entry
                for entry in entries
                if entry.is_file(follow_symlinks=False)
                and (entry.name.startswith(_TEMP_PREFIX) or OUTPUT_FILENAME_PATTERN.fullmatch(entry.name))
                and entry.name.rsplit(".", 1)[-1] in {f.extension for f in AUDIO_FORMATS.values()}
            ]

    def total_bytes(self) -> int:
        return sum(entry.stat(follow_symlinks=False).st_size for entry in self.files())

    def is_partial(self, filename: str) -> bool:
        return self._is_partial_name(filename)

    @staticmethod
    def _is_partial_name(filename: str) -> bool:
        # Only names this class generates: prefix + 32 hex digits + extension.
        return re.fullmatch(re.escape(_TEMP_PREFIX) + r"[0-9a-f]{32}\.[a-z0-9]+", filename) is not None
