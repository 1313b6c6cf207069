#!/usr/bin/env python3
"""Streaming benchmark: time to the first audio byte and to the end of the stream.

``POST /tts/stream`` (``pcm``, so every byte received is audio) with 1 and 8
concurrent clients, each sending the same paragraph with a different seed.
For comparison, the same load as whole files (``POST /tts``: the first audio
byte is the end), and, when the script starts the servers itself, a second
server with ``STREAM_FIRST_CHUNK_BYTES=0`` (streams whose first chunk is the
planner's full-length one).

    python benchmarks/stream.py                           # demo model, starts both servers
    python benchmarks/stream.py http://127.0.0.1:8000     # a running server only
    python benchmarks/stream.py --arch F5TTS_Base --checkpoint model_last.pt --vocab vocab.txt \\
        --vocoder /models/vocos --device cuda             # the real model, servers started

The markdown result goes to benchmarks/results/stream-<device>.md (``cpu``,
``cuda``; the file names the model) or ``--output``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_server import StartedServer, add_server_options, command_line, machine_description

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# About 20 s of speech: the planner makes two or three chunks of it.
PARAGRAPH = (
    "hôm nay là một ngày đẹp trời, chúng tôi cùng nhau đi dạo quanh hồ gươm và ngắm nhìn những hàng cây xanh. "
    "buổi chiều, cả gia đình quây quần bên mâm cơm, kể cho nhau nghe những câu chuyện vui trong tuần. "
    "tối đến, thành phố lên đèn, những con phố nhỏ trở nên nhộn nhịp với tiếng cười nói của mọi người."
)


@dataclass
class Sample:
    first_audio: float  # seconds from sending the request to the first audio byte
    end: float  # seconds to the last byte
    audio_seconds: float


@dataclass
class Scenario:
    label: str
    concurrency: int
    samples: list[Sample] = field(default_factory=list)
    failures: int = 0

    def stat(self, name: str, fn: Any) -> float:
        values = [getattr(sample, name) for sample in self.samples]
        return fn(values) if values else float("nan")


# --- servers started by the script -----------------------------------------------------------
# --- one request ---------------------------------------------------------------------------------
async def _streamed(client: httpx.AsyncClient, body: dict[str, Any]) -> Sample:
    started = time.perf_counter()
    first = None
    received = 0
    async with client.stream("POST", "/tts/stream", json={**body, "format": "pcm"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {(await response.aread())[:200]!r}")
        rate = int(response.headers["x-sample-rate"])
        async for piece in response.aiter_raw():
            if first is None and piece:
                first = time.perf_counter() - started
            received += len(piece)
    end = time.perf_counter() - started
    return Sample(first if first is not None else end, end, received / 2 / rate)


async def _whole(client: httpx.AsyncClient, body: dict[str, Any]) -> Sample:
    started = time.perf_counter()
    response = await client.post("/tts", json=body)
    end = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code} {response.text[:200]}")
    return Sample(end, end, float(response.headers["x-audio-duration"]))


async def run_scenario(
    url: str, label: str, concurrency: int, rounds: int, streamed: bool, args: argparse.Namespace
) -> Scenario:
    scenario = Scenario(label, concurrency)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=url, timeout=3600, headers=headers, limits=limits) as client:
        # Warm-up: first-call costs are not part of the measurement.
        await _whole(client, {"text": "xin chào.", "nfe_step": args.nfe_step, "ref_name": args.voice})
        for round_index in range(rounds):
            bodies = [
                {
                    "text": PARAGRAPH,
                    "ref_name": args.voice,
                    "nfe_step": args.nfe_step,
                    "seed": 1000 * round_index + index,
                }
                for index in range(concurrency)
            ]
            request = _streamed if streamed else _whole
            results = await asyncio.gather(*(request(client, body) for body in bodies), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    scenario.failures += 1
                    print(f"  request failed: {result}", file=sys.stderr)
                else:
                    scenario.samples.append(result)
    return scenario


# --- reporting -------------------------------------------------------------------------------------
def _row(scenario: Scenario) -> str:
    median, worst = statistics.median, max
    return (
        f"| {scenario.label} | {scenario.concurrency} | {len(scenario.samples)} | {scenario.failures} | "
        f"{scenario.stat('first_audio', median):.2f} | {scenario.stat('first_audio', worst):.2f} | "
        f"{scenario.stat('end', median):.2f} | {scenario.stat('end', worst):.2f} | "
        f"{scenario.stat('audio_seconds', median):.1f} |"
    )


def report(scenarios: list[Scenario], status: dict[str, Any], args: argparse.Namespace) -> str:
    model, cores = machine_description()
    device = status["device"]
    gpu = device.get("gpu")
    lines = [
        f"# Streaming benchmark: {status['model']['arch']} on {device['device']}",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {model}, {cores} CPU(s)" + (f"; GPU {gpu['name']}" if gpu else ""),
        f"- model: {status['model']['name']} (arch {status['model']['arch']}, dtype {device.get('dtype')})",
        f"- command: `{args.command_line}`",
        f"- load: N concurrent clients, each one request of a {len(PARAGRAPH)}-character paragraph, "
        f"nfe_step {args.nfe_step}, voice `{args.voice}`; {args.rounds} round(s) for 1 client, "
        f"{args.rounds_concurrent} for {args.concurrency} clients; streams ask for `pcm`, so the first byte "
        "received is the first audio; times in seconds from sending the request",
        f"- server: max_batch_items {status['batching']['max_batch_items']}, "
        f"max_batch_frames {status['batching']['max_batch_frames']}",
        "",
        "| mode | clients | requests | failed | first audio p50 | first audio max | end p50 | end max "
        "| audio s (p50) |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_row(scenario) for scenario in scenarios),
        "",
    ]
    if args.note:
        lines += ["## Notes", "", args.note, ""]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="running server to test (default: start one)")
    parser.add_argument(
        "--uncut-url", help="running server with STREAM_FIRST_CHUNK_BYTES=0 (started by default without url)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the single-client load")
    parser.add_argument("--rounds-concurrent", type=int, default=1, help="rounds of the concurrent load")
    add_server_options(parser)
    parser.add_argument("--output", type=Path, help="markdown file (default: benchmarks/results/stream-<device>.md)")
    args = parser.parse_args()
    args.command_line = command_line("benchmarks/stream.py")
    return args


def main() -> int:
    args = parse_args()
    started: list[StartedServer] = []
    scenarios: list[Scenario] = []
    try:
        url, uncut_url = args.url, args.uncut_url
        if url is None:
            started.append(StartedServer(args, "default", {}))
            url = started[-1].url
            if uncut_url is None:
                started.append(StartedServer(args, "uncut", {"STREAM_FIRST_CHUNK_BYTES": "0"}))
                uncut_url = started[-1].url
        for server in started:
            server.wait_ready(args.ready_timeout)
        plan = [("stream", url, True), ("whole file (POST /tts)", url, False)]
        if uncut_url is not None:
            plan.insert(1, ("stream, first chunk not cut", uncut_url, True))
        for concurrency, rounds in ((1, args.rounds), (args.concurrency, args.rounds_concurrent)):
            for label, target, streamed in plan:
                print(f"{label}: {concurrency} client(s) x {rounds} round(s) ...", flush=True)
                scenarios.append(asyncio.run(run_scenario(target, label, concurrency, rounds, streamed, args)))
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        status = httpx.get(f"{url}/status", timeout=30, headers=headers).json()
    finally:
        for server in started:
            server.stop()
    text = report(scenarios, status, args)
    print(text)
    device_kind = (status["device"]["device"] or "cpu").split(":")[0]
    output = args.output or RESULTS_DIR / f"stream-{device_kind}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"written to {output}")
    return 1 if any(scenario.failures for scenario in scenarios) else 0


if __name__ == "__main__":
    sys.exit(main())
