"""Encode cost per format and rate: ``python benchmarks/audio_formats.py``.

Prints a Markdown table of milliseconds of CPU time per second of audio
(median of several runs, one thread) for one-shot ``encode`` and for a
``StreamEncoder`` fed 0.5 s chunks. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from app.services.audio.encode import encode
from app.services.audio.formats import FORMAT_NAMES, AudioFormat
from app.services.audio.stream import StreamEncoder


def _signal(seconds: float, rate: int = 24000) -> np.ndarray:
    # Harmonic, speech-like content: codecs do more work on it than on silence.
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 3 * t)) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 40)) * (0.6 + 0.4 * np.sin(4 * np.pi * t))
    x = x + 0.01 * rng.standard_normal(t.shape[0])
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def _median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rates", type=int, nargs="+", default=[24000, 16000, 22050, 44100, 48000])
    args = parser.parse_args()

    audio = _signal(args.seconds)
    chunk = 12000  # 0.5 s at 24 kHz

    def stream(fmt: str, rate: int) -> None:
        encoder = StreamEncoder(fmt, 24000, rate)
        encoder.header()
        for start in range(0, audio.shape[0], chunk):
            encoder.encode(audio[start : start + chunk])
        encoder.finish()

    print("| format | output rate | encode ms per s of audio | stream ms per s | bytes per s |")
    print("|---|---|---|---|---|")
    for name in FORMAT_NAMES:
        for rate in args.rates:
            size = len(encode(audio, 24000, name, target_rate=rate)) / args.seconds
            one_shot = _median_ms(lambda n=name, r=rate: encode(audio, 24000, n, target_rate=r), args.repeats)
            streamed = (
                f"{_median_ms(lambda n=name, r=rate: stream(n, r), args.repeats) / args.seconds:.2f}"
                if AudioFormat(name).streamable
                else "-"
            )
            print(f"| {name} | {rate} | {one_shot / args.seconds:.2f} | {streamed} | {size:,.0f} |")


if __name__ == "__main__":
    main()
