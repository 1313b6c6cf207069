#!/usr/bin/env python3
"""Load benchmark of the HTTP service: what batching buys under concurrency.

N clients each send R synchronous ``POST /tts`` requests back to back (a
closed loop), all at once. Reported: throughput (requests/s and seconds of
audio per second), latency p50/p95/max, and the batches the server formed.
The same load then runs against a server with batching off
(``MAX_BATCH_ITEMS=1``); the ratio of the two throughputs is what batching buys.

Servers: pass URLs of running ones, or let the script start them
(``f5-tts-vi serve`` subprocesses on free ports, temporary folders, stopped
by PID at the end):

    python benchmarks/load.py                                    # demo model, starts both servers
    python benchmarks/load.py http://127.0.0.1:8000              # a running server + a started batch-1 one
    python benchmarks/load.py URL --baseline-url URL1            # two running servers
    python benchmarks/load.py --arch F5TTS_Base --checkpoint model_last.pt --vocab vocab.txt \\
        --vocoder /models/vocos                                  # the real model, both servers started

The markdown result goes to benchmarks/results/load-<device>-<arch>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_server import StartedServer, add_server_options, command_line, machine_description

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

SENTENCES = [
    "xin chào, hôm nay trời thật đẹp và chúng ta cùng nhau đi dạo.",
    "hệ thống chuyển văn bản thành giọng nói đang được kiểm tra tải.",
    "mỗi yêu cầu được xếp hàng và xử lý theo từng lô trên máy chủ.",
    "cảm ơn bạn đã lắng nghe, chúc bạn một ngày làm việc vui vẻ.",
    "thành phố về đêm lung linh ánh đèn, người người qua lại tấp nập.",
]


@dataclass
class RunResult:
    label: str
    requests: int
    failures: int
    wall_seconds: float
    latencies: list[float]
    audio_seconds: float
    batches: int
    chunks: int

    @property
    def throughput(self) -> float:
        return (self.requests - self.failures) / self.wall_seconds

    @property
    def audio_per_second(self) -> float:
        return self.audio_seconds / self.wall_seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    @property
    def mean_batch(self) -> float:
        return self.chunks / self.batches if self.batches else float("nan")


# --- the load ---
async def _client_loop(
    client: httpx.AsyncClient, client_index: int, args: argparse.Namespace, latencies: list[float], audio: list[float]
) -> int:
    failures = 0
    for request_index in range(args.requests_per_client):
        body: dict[str, Any] = {
            "text": SENTENCES[(client_index + request_index) % len(SENTENCES)],
            "ref_name": args.voice,
            "nfe_step": args.nfe_step,
            "seed": client_index * 1000 + request_index,
        }
        started = time.perf_counter()
        response = await client.post("/tts", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            failures += 1
            print(f"  request failed: {response.status_code} {response.text[:200]}", file=sys.stderr)
            continue
        latencies.append(elapsed)
        audio.append(float(response.headers.get("x-audio-duration", "0")))
    return failures


async def run_load(url: str, label: str, args: argparse.Namespace) -> RunResult:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=url, timeout=3600, headers=headers, limits=limits) as client:
        # Warm-up: first-call costs are not part of the measurement.
        warm = await client.post("/tts", json={"text": SENTENCES[0], "nfe_step": args.nfe_step, "ref_name": args.voice})
        warm.raise_for_status()
        before = (await client.get("/status")).json()["batching"]
        latencies: list[float] = []
        audio: list[float] = []
        started = time.perf_counter()
        failures = await asyncio.gather(
            *(_client_loop(client, index, args, latencies, audio) for index in range(args.clients))
        )
        wall = time.perf_counter() - started
        after = (await client.get("/status")).json()["batching"]
    return RunResult(
        label=label,
        requests=args.clients * args.requests_per_client,
        failures=sum(failures),
        wall_seconds=wall,
        latencies=latencies,
        audio_seconds=sum(audio),
        batches=after["batches_run"] - before["batches_run"],
        chunks=after["chunks_run"] - before["chunks_run"],
    )


# --- reporting ---
def _row(result: RunResult) -> str:
    return (
        f"| {result.label} | {result.requests} | {result.failures} | {result.wall_seconds:.1f} | "
        f"{result.throughput:.2f} | {result.audio_per_second:.2f} | {result.percentile(0.5):.2f} | "
        f"{result.percentile(0.95):.2f} | {max(result.latencies, default=float('nan')):.2f} | "
        f"{result.batches} | {result.mean_batch:.2f} |"
    )


def report(batched: RunResult, baseline: RunResult, status: dict[str, Any], args: argparse.Namespace) -> str:
    model, cores = machine_description()
    device = status["device"]
    gpu = device.get("gpu")
    ratio = batched.throughput / baseline.throughput if baseline.throughput else float("nan")
    latency_ratio = baseline.percentile(0.5) / batched.percentile(0.5)
    lines = [
        f"# Load benchmark: {status['model']['arch']} on {device['device']}",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {model}, {cores} CPU(s)" + (f"; GPU {gpu['name']}" if gpu else ""),
        f"- model: {status['model']['name']} (arch {status['model']['arch']}, dtype {device.get('dtype')})",
        f"- command: `{args.command_line}`",
        f"- load: {args.clients} concurrent clients x {args.requests_per_client} sync `POST /tts` each "
        f"(closed loop), nfe_step {args.nfe_step}, voice `{args.voice}`, one-sentence texts "
        f"({min(map(len, SENTENCES))}-{max(map(len, SENTENCES))} characters)",
        f"- batched server: max_batch_items {status['batching']['max_batch_items']}, "
        f"max_batch_frames {status['batching']['max_batch_frames']}; baseline: max_batch_items 1",
        "",
        "| server | requests | failed | wall s | req/s | audio s per s "
        "| p50 s | p95 s | max s | batches | mean batch |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        _row(batched),
        _row(baseline),
        "",
        f"**Throughput with batching / with batch size 1: {ratio:.2f}x** "
        f"(p50 latency {batched.percentile(0.5):.2f} s vs {baseline.percentile(0.5):.2f} s, "
        f"ratio {latency_ratio:.2f}).",
        "",
    ]
    if args.note:
        lines += ["## Notes", "", args.note, ""]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="running server to test (default: start one)")
    parser.add_argument("--baseline-url", help="running server with MAX_BATCH_ITEMS=1 (default: start one)")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests-per-client", type=int, default=3)
    add_server_options(parser)
    parser.add_argument(
        "--output", type=Path, help="markdown file (default: benchmarks/results/load-<device>-<arch>.md)"
    )
    args = parser.parse_args()
    args.command_line = command_line("benchmarks/load.py")
    return args


def main() -> int:
    args = parse_args()
    started: list[StartedServer] = []
    try:
        url = args.url
        baseline_url = args.baseline_url
        if url is None:
            started.append(StartedServer(args, "batched", {"MAX_BATCH_ITEMS": "16", "MAX_QUEUE_SIZE": "100000"}))
            url = started[-1].url
        if baseline_url is None:
            started.append(StartedServer(args, "batch1", {"MAX_BATCH_ITEMS": "1", "MAX_QUEUE_SIZE": "100000"}))
            baseline_url = started[-1].url
        for server in started:
            server.wait_ready(args.ready_timeout)
        # One load at a time: both servers share this machine.
        print(f"batched server {url}: {args.clients} clients x {args.requests_per_client} requests ...")
        batched = asyncio.run(run_load(url, "batched", args))
        print(f"baseline server {baseline_url} (batch 1) ...")
        baseline = asyncio.run(run_load(baseline_url, "batch size 1", args))
        status = httpx.get(f"{url}/status", timeout=30, headers=_auth(args)).json()
    finally:
        for server in started:
            server.stop()
    text = report(batched, baseline, status, args)
    print(text)
    device_kind = (status["device"]["device"] or "cpu").split(":")[0]
    arch = status["model"]["arch"] or args.arch
    output = args.output or RESULTS_DIR / f"load-{device_kind}-{arch}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"written to {output}")
    return 1 if batched.failures or baseline.failures else 0


def _auth(args: argparse.Namespace) -> dict[str, str]:
    return {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}


if __name__ == "__main__":
    sys.exit(main())
