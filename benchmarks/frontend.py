"""Cost of the Vietnamese text front-end: normalization and chunking per 1000 sentences.

    .venv/bin/python benchmarks/frontend.py [--sentences 1000] [--single 100] [--repeat 3]
        [--write benchmarks/results/frontend-cpu.md]

Measures, on news-style sentences with numbers, dates, money, acronyms and
English brand names (generated from a fixed seed):

- Vinorm engine alone: all sentences packed into a few lines of one call (what
  the service does), one line per sentence in one call, and one call per
  sentence (on a subset), as cost per sentence;
- our rules alone (clean-up, lexicon, rewrites, segmentation; no engine);
- full ``TextFrontend.normalize_many`` with a cold cache, and again warm;
- ``TextFrontend.normalize`` one text at a time (a request per sentence);
- ``chunk_text`` on the normalized text at a typical byte budget.

Best of ``--repeat`` runs; CPU only; the engine is a subprocess.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.text import TextFrontend, VinormRunner
from app.services.text.chunker import chunk_text, utf8_len

TEMPLATES = [
    "Ngày {d}/{m}/{y}, giá vàng SJC tăng {p},{q}% lên {big} đồng mỗi lượng.",
    "Lúc {h}h{mm} sáng nay, tại số {n} đường Nguyễn Huệ, Q.1, TP.HCM đã xảy ra một vụ cháy.",
    "Theo Tổng cục Thống kê, GDP quý {qr}/{y} tăng {p},{q}% so với cùng kỳ năm trước.",
    "Công ty ABC có {n} nhân viên và doanh thu đạt {p} tỷ USD trong năm {y}.",
    "Nhiệt độ ở Hà Nội dao động từ {lo}-{hi}°C, độ ẩm {lo}-{hi}%.",
    "Anh ấy nói: tôi vừa mua iPhone {small} Pro Max với giá ${n}!",
    "Đội tuyển U{small} thắng {s1}-{s2} trong trận đấu tối qua, thật không thể tin được?",
    "Liên hệ số điện thoại 0{phone} hoặc email hotro@congty.vn để được tư vấn.",
    "Dân số của tỉnh năm {y} vào khoảng {big} người; mật độ {n} người/km2.",
    "Ứng dụng AI và ChatGPT đang thay đổi cách làm việc của {n} doanh nghiệp.",
    "Thế kỷ XXI, Chương IV, Điều {small}, khoản {s1} của luật mới có hiệu lực.",
    "Lãi suất tiết kiệm kỳ hạn {small} tháng là {p},{q}%/năm tại các ngân hàng.",
]


def make_sentences(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        out.append(
            template.format(
                d=rng.randint(1, 28),
                m=rng.randint(1, 12),
                y=rng.randint(1990, 2030),
                p=rng.randint(1, 99),
                q=rng.randint(1, 99),
                big=f"{rng.randint(1, 999)}.{rng.randint(0, 999):03d}.{rng.randint(0, 999):03d}",
                h=rng.randint(0, 23),
                mm=f"{rng.randint(0, 59):02d}",
                n=rng.randint(2, 9999),
                qr=rng.randint(1, 4),
                lo=rng.randint(10, 25),
                hi=rng.randint(26, 40),
                small=rng.randint(11, 30),
                s1=rng.randint(0, 5),
                s2=rng.randint(0, 5),
                phone=rng.randint(100_000_000, 999_999_999),
            )
        )
    return out


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100, help="sentences for the one-call-each runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-bytes", type=int, default=200, help="chunk budget (a ~10 s reference)")
    parser.add_argument("--write", type=Path, help="also write the markdown report here")
    args = parser.parse_args()

    sentences = make_sentences(args.sentences)
    subset = sentences[: args.single]
    runner = VinormRunner()
    frontend = TextFrontend(runner=runner, cache_size=0)
    warm = TextFrontend(runner=runner, cache_size=100_000)
    per_k = 1000 / len(sentences)
    runner.normalize_many(["Khởi động 1 lần."])  # page the engine and its dictionaries in
    rows: list[tuple[str, float, str]] = []

    bodies = [s.body for text in sentences for s in frontend.normalizer.prepare(text, frontend.lexicon.current())]
    bodies = [b for b in bodies if b]
    t = best_of(args.repeat, lambda: runner.normalize_many(bodies))
    rows.append(("Vinorm engine, packed lines, one call (service path)", t * per_k, f"{len(bodies)} segments"))

    t = best_of(args.repeat, lambda: runner._run([runner._sanitize(s) for s in sentences]))
    rows.append(("Vinorm engine, one line per sentence, one call", t * per_k, ""))

    t = best_of(1, lambda: [runner.normalize_many([s]) for s in subset])
    rows.append(("Vinorm engine, one call per sentence", t * 1000 / len(subset), f"measured on {len(subset)}"))

    lexicon = frontend.lexicon.current()
    t = best_of(args.repeat, lambda: [frontend.normalizer.prepare(s, lexicon) for s in sentences])
    rows.append(("Our rules only (clean, lexicon, rewrites, segments)", t * per_k, "no engine"))

    normalized: list[str] = []
    t = best_of(args.repeat, lambda: normalized.__setitem__(slice(None), frontend.normalize_many(sentences)))
    rows.append(("TextFrontend.normalize_many, cold cache", t * per_k, "one engine call"))

    warm.normalize_many(sentences)
    t = best_of(args.repeat, lambda: warm.normalize_many(sentences))
    rows.append(("TextFrontend.normalize_many, warm cache", t * per_k, "no engine call"))

    t = best_of(1, lambda: [frontend.normalize(s) for s in subset])
    note = f"measured on {len(subset)}"
    rows.append(("TextFrontend.normalize, one request per sentence", t * 1000 / len(subset), note))

    text = " ".join(normalized)
    chunks: list[str] = []
    t = best_of(args.repeat, lambda: chunks.__setitem__(slice(None), chunk_text(text, args.max_bytes)))
    sizes = [utf8_len(c) for c in chunks]
    rows.append(
        (
            f"chunk_text, budget {args.max_bytes} bytes",
            t * per_k,
            f"{len(chunks)} chunks, median {statistics.median(sizes):.0f} B, "
            f"median {statistics.median(len(c.split()) for c in chunks):.0f} words",
        )
    )

    command = "benchmarks/frontend.py " + " ".join(sys.argv[1:])
    lines = [
        "# Text front-end cost (CPU)",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {len(__import__('os').sched_getaffinity(0))} usable cores (shared with other work)",
        f"- python {platform.python_version()}, vinorm engine from {runner.install().package_dir}",
        f"- command: `.venv/bin/python {command.strip()}`",
        f"- input: {len(sentences)} generated news-style sentences, "
        f"{sum(len(s) for s in sentences) / len(sentences):.0f} characters on average; best of {args.repeat}",
        "",
        "| what | ms per 1000 sentences | ms per sentence | note |",
        "|---|---:|---:|---|",
    ]
    for name, seconds_per_k, note in rows:
        lines.append(f"| {name} | {seconds_per_k * 1000:,.0f} | {seconds_per_k:.2f} | {note} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
