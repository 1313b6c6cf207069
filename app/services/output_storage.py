"""Generated audio files under ``OUTPUT_DIR``: the audio of job X is ``X.<ext>`` (``X.wav`` by default).

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
from app.services import audio

# Output formats: extension, media type, writer. Every format of
# ``app.services.audio`` is registered below; ``register_format`` adds others.
# A writer gets the engine's audio and rate and the requested output rate
# (None: keep the engine's).
AudioWriter = Callable[[Path, np.ndarray, int, int | None], None]


@dataclass(frozen=True)
class AudioFormat:
    name: str
    extension: str
    media_type: str
    write: AudioWriter


def _writer(fmt: audio.AudioFormat) -> AudioWriter:
    def write(path: Path, samples: np.ndarray, sample_rate: int, target_rate: int | None) -> None:
        path.write_bytes(audio.encode(samples, sample_rate, fmt, target_rate=target_rate))

    return write


AUDIO_FORMATS: dict[str, AudioFormat] = {
    fmt.value: AudioFormat(fmt.value, fmt.extension, fmt.media_type, _writer(fmt)) for fmt in audio.AudioFormat
}


def register_format(audio_format: AudioFormat) -> None:
    AUDIO_FORMATS[audio_format.name] = audio_format


def format_for_extension(extension: str) -> AudioFormat | None:
    extension = extension.lower()
    for audio_format in AUDIO_FORMATS.values():
        if audio_format.extension == extension:
            return audio_format
    return None


def read_audio(path: Path, raw_pcm_rate: int = audio.DEFAULT_SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """Decode a stored output file to float32 mono (``.pcm`` files carry no header:
    their rate is ``raw_pcm_rate``). Blocking."""
    if path.suffix.lower() == ".pcm":
        samples = np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float32) / 32768.0
        return samples, raw_pcm_rate
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    return np.ascontiguousarray(samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]), int(rate)


def convert(
    path: Path, fmt: str, target_rate: int | None = None, raw_pcm_rate: int = audio.DEFAULT_SAMPLE_RATE
) -> tuple[bytes, int]:
    """A stored file in another format and/or rate, in memory: (bytes, sample rate of
    the result). ``target_rate`` None keeps the file's rate. Blocking."""
    samples, rate = read_audio(path, raw_pcm_rate)
    target = rate if target_rate is None else target_rate
    return audio.encode(samples, rate, fmt, target_rate=target), audio.output_sample_rate(fmt, target)


OUTPUT_FILENAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")
_TEMP_PREFIX = ".partial-"


class OutputStorage:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def filename_for(self, job_id: str, fmt: str = "wav") -> str:
        return f"{job_id}.{AUDIO_FORMATS[fmt].extension}"

    def media_type_for(self, filename: str) -> str:
        audio_format = format_for_extension(filename.rsplit(".", 1)[-1])
        return audio_format.media_type if audio_format is not None else "application/octet-stream"

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

    def write(
        self, job_id: str, samples: np.ndarray, sample_rate: int, fmt: str = "wav", target_rate: int | None = None
    ) -> str:
        """Write atomically in ``fmt`` (resampled to ``target_rate`` if given); returns the
        file name. Blocking: call it off the event loop."""
        audio_format = AUDIO_FORMATS[fmt]
        filename = self.filename_for(job_id, fmt)
        final_path = self.path_for(filename)
        temp_path = self.root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.{audio_format.extension}"
        try:
            audio_format.write(temp_path, samples, sample_rate, target_rate)
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
