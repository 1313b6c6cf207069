"""Engine speed: real-time factor of one request, and throughput when requests are batched.

Random weights with the real architecture (speed does not depend on the values), a full-size
random Vocos unless --arch demo. Prints a markdown table and, with --out, writes it with the
machine and command so results stay comparable.

    python benchmarks/engine.py --arch F5TTS_Small --nfe 8 --batch 1 --batch 4 --out benchmarks/results/x.md
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from f5_tts import F5TTS, SynthesisRequest
from f5_tts.loading import build_random_model
from f5_tts.vocoder import FULL_SIZE, demo_vocoder

SR = 24000
REF_TEXT = "xin chào, đây là giọng đọc mẫu để đo tốc độ của hệ thống."
# About 7 s of speech at the reference's pace: a typical short request.
GEN_TEXT = "hôm nay trời đẹp, chúng ta cùng nhau đi dạo trong công viên và nói chuyện về công việc."


def machine() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda}), torch {torch.__version__}"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (StopIteration, OSError):
        cpu = platform.processor() or "unknown CPU"
    return f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def reference_clip(seconds: float = 5.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > -0.3)).astype(np.float32)


def build_engine(arch: str, device: str | None, dtype: str | None) -> F5TTS:
    model = build_random_model(arch, seed=0, device=device, dtype=dtype)
    sizes = {} if arch == "demo" else FULL_SIZE
    return F5TTS(vocoder=demo_vocoder(0, device=model.device, **sizes), arch=arch, model=model)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(engine: F5TTS, batch: int, nfe: int, repeats: int) -> dict[str, float]:
    clip = reference_clip()
    requests = [SynthesisRequest((clip, SR), REF_TEXT, GEN_TEXT, nfe_step=nfe, seed=i) for i in range(batch)]
    walls = []
    audio_seconds = 0.0
    for _ in range(repeats):
        sync(engine.device)
        start = time.perf_counter()
        results = engine.infer_batch(requests, max_batch_items=batch)
        sync(engine.device)
        walls.append(time.perf_counter() - start)
        audio_seconds = sum(len(r.audio) for r in results) / SR
    wall = statistics.median(walls)
    return {
        "batch": batch,
        "wall_s": wall,
        "audio_s": audio_seconds,
        "rtf": wall / audio_seconds,
        "throughput": audio_seconds / wall,
        "latency_per_request_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", action="append", help="demo, F5TTS_Small, F5TTS_Base (repeatable)")
    parser.add_argument("--batch", action="append", type=int, help="batch sizes (repeatable)")
    parser.add_argument("--nfe", type=int, default=32)
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default=None, help="fp32, fp16, bf16 (default: fp16 on GPU, fp32 on CPU)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write the markdown result here")
    args = parser.parse_args()
    archs = args.arch or ["demo"]
    batches = args.batch or [1, 4, 8, 16]

    lines = [
        f"# Engine benchmark ({date.today().isoformat()})",
        "",
        f"- machine: {machine()}",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- request: 5 s reference, {len(GEN_TEXT.encode())} bytes of text, NFE {args.nfe}, CFG 2, random weights",
        "",
        "| arch | device | dtype | batch | wall s | audio s | RTF | audio s per s | speed-up vs batch 1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arch in archs:
        engine = build_engine(arch, args.device, args.dtype)
        run(engine, 1, min(args.nfe, 2), 1)  # warm-up: kernels, allocator, thread pools
        base = None
        for b in batches:
            r = run(engine, b, args.nfe, args.repeats)
            base = base or r["throughput"]
            row = (
                f"| {arch} | {engine.device} | {str(engine.dtype).replace('torch.', '')} | {b} | {r['wall_s']:.2f} | "
                f"{r['audio_s']:.1f} | {r['rtf']:.3f} | {r['throughput']:.2f} | {r['throughput'] / base:.2f}x |"
            )
            lines.append(row)
            print(row, flush=True)
        del engine
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
