#!/usr/bin/env python3
"""Make the synthetic Vietnamese sample voices shipped in ``voices/``.

Each voice is speech synthesized by espeak-ng (Debian package ``espeak-ng``,
voice ``vi``), so the clips carry no third-party recording rights and are free
to ship. They are reference clips for voice cloning, not good speech: a real
deployment replaces them with recordings of its own.

Output per voice: ``NAME.wav`` (24 kHz, mono, 16-bit PCM, 3-8 s) and
``NAME.txt`` (the transcript: lowercase Vietnamese with punctuation, exactly
what the clip says).

Usage:  python tools/make_voices.py [--out voices]
Needs:  espeak-ng on PATH (apt-get install -y espeak-ng), numpy, soundfile,
        torch/torchaudio (for resampling; already dependencies of the project).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

TARGET_SAMPLE_RATE = 24_000
MIN_SECONDS, MAX_SECONDS = 3.0, 8.0


@dataclass(frozen=True)
class SampleVoice:
    name: str
    espeak_voice: str  # language + variant, e.g. "vi+f2"
    pitch: int  # espeak-ng -p, 0-99 (50 is its default)
    words_per_minute: int  # espeak-ng -s
    transcript: str


VOICES = (
    SampleVoice(
        name="main",
        espeak_voice="vi+f2",
        pitch=55,
        words_per_minute=150,
        transcript="xin chào, đây là giọng đọc mẫu của hệ thống chuyển văn bản thành giọng nói tiếng việt.",
    ),
    SampleVoice(
        name="giong_nam",
        espeak_voice="vi+m3",
        pitch=35,
        words_per_minute=135,
        transcript="hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé.",
    ),
    SampleVoice(
        name="giong_nam_mien_nam",
        espeak_voice="vi-vn-x-south+m1",
        pitch=45,
        words_per_minute=165,
        transcript="cảm ơn bạn đã lắng nghe, chúc bạn một ngày thật vui vẻ và bình an.",
    ),
)


def synthesize_with_espeak(voice: SampleVoice, wav_path: Path) -> None:
    command = [
        "espeak-ng",
        "-v",
        voice.espeak_voice,
        "-p",
        str(voice.pitch),
        "-s",
        str(voice.words_per_minute),
        "-w",
        str(wav_path),
        voice.transcript,
    ]
    subprocess.run(command, check=True, capture_output=True)


def to_target_format(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 24 kHz, peak at -3 dBFS."""
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    audio = audio.astype(np.float32)
    if sample_rate != TARGET_SAMPLE_RATE:
        # torchaudio's windowed-sinc resampler: espeak-ng writes 22050 Hz.
        import torch
        import torchaudio.functional as audio_functional

        audio = (
            audio_functional.resample(torch.from_numpy(audio), sample_rate, TARGET_SAMPLE_RATE)
            .numpy()
            .astype(np.float32)
        )
    peak = float(np.max(np.abs(audio))) or 1.0
    return audio * (10 ** (-3 / 20) / peak)


def make_voice(voice: SampleVoice, out_dir: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = Path(tmp) / "raw.wav"
        synthesize_with_espeak(voice, raw_path)
        audio, sample_rate = sf.read(raw_path, dtype="float32")
    audio = to_target_format(audio, sample_rate)
    seconds = len(audio) / TARGET_SAMPLE_RATE
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise SystemExit(f"{voice.name}: {seconds:.2f} s is outside {MIN_SECONDS}-{MAX_SECONDS} s; adjust the text")
    sf.write(out_dir / f"{voice.name}.wav", audio, TARGET_SAMPLE_RATE, subtype="PCM_16")
    (out_dir / f"{voice.name}.txt").write_text(voice.transcript + "\n", encoding="utf-8")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "voices")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng not found: apt-get install -y espeak-ng", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for voice in VOICES:
        seconds = make_voice(voice, args.out)
        print(f"{voice.name}.wav  {seconds:.2f} s  {voice.transcript}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
