"""The Vinorm engine runner: private working folders, batching, errors."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import pytest

from app.services.text import TextFrontend
from app.services.text.errors import (
    VinormFailedError,
    VinormNotInstalledError,
    VinormTimeoutError,
)
from app.services.text.vinorm import SEPARATOR, VinormRunner, locate_vinorm

PACKAGE_DIR = Path(importlib.util.find_spec("vinorm").origin).parent

SENTENCES = [
    "Ngày 12/3/2024 giá vàng tăng 2,5%",
    "Lúc 14h30 tại 123 Nguyễn Huệ",
    "Dân số 1.234.567.890 người",
    "IV 1980",  # a Roman numeral at a text's start: context-sensitive in Vinorm
    "GDP và WHO",
    "Tôi có 3 con mèo",
    "",
    "Email abc@gmail.com",
    "Thế kỷ XXI",
]


def test_locates_the_package_without_importing_it() -> None:
    install = locate_vinorm()
    assert install.package_dir == PACKAGE_DIR
    assert install.binary.name == "main" and install.lib_dir.is_dir()
    assert "vinorm" not in sys.modules  # the wrapper (which imports `imp`) never ran


def test_batched_equals_one_text_per_line(runner: VinormRunner) -> None:
    batched = runner.normalize_many(SENTENCES)
    one_per_line = runner._run([runner._sanitize(s) for s in SENTENCES if s])
    assert len(batched) == len(SENTENCES)
    assert batched[6] == ""
    expected = iter(one_per_line)
    for text, out in zip(SENTENCES, batched):
        if text and not text.startswith("IV"):
            assert out == next(expected)
        elif text:
            next(expected)
    assert batched[0] == (
        "ngày mười hai tháng ba năm hai nghìn không trăm hai mươi tư giá vàng tăng hai phẩy năm phần trăm"
    )


def test_one_engine_call_per_batch_and_lines_split_by_size() -> None:
    runner = VinormRunner(max_line_chars=60)
    out = runner.normalize_many(["Tôi có 3 con mèo"] * 12)
    assert out == ["tôi có ba con mèo"] * 12
    assert runner.calls == 1  # 12 texts, several lines, one process


def test_never_writes_into_the_package_folder(runner: VinormRunner) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in PACKAGE_DIR.iterdir() if p.is_file()}
    runner.normalize_many(["Kiểm tra 1 2 3"])
    after = {p.name: p.stat().st_mtime_ns for p in PACKAGE_DIR.iterdir() if p.is_file()}
    assert before == after


def test_separator_and_record_marker_in_input_cannot_break_alignment(runner: VinormRunner) -> None:
    texts = [f"a {SEPARATOR} b", f"x {SEPARATOR.upper()} y", "thử #line# xem", "c"]
    out = runner.normalize_many(texts)
    assert out == ["a b", "x y", "thử line xem", "c"]


def test_twenty_concurrent_normalizations_are_right(runner: VinormRunner) -> None:
    frontend = TextFrontend(runner=runner, cache_size=0)
    texts = [f"Đơn hàng số {i} giá {i * 1000} đồng, ngày {i % 28 + 1}/5." for i in range(1, 21)]
    expected = [frontend.normalize(t) for t in texts]  # one at a time
    assert len(set(expected)) == 20
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = frontend.normalize(texts[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [results[i] for i in range(20)] == expected
    assert expected[0] == "đơn hàng số một giá một nghìn đồng, ngày hai tháng năm."


# --- installs that are not as expected ---------------------------------------------------------


def _fake_package(root: Path, script: str | None = None, *, copy_real_binary: bool = False) -> Path:
    """A vinorm-shaped folder: real data folders linked in, and a fake or copied engine."""
    root.mkdir()
    for name in ("Dict", "Mapping", "RegexRule", "lib"):
        (root / name).symlink_to(PACKAGE_DIR / name, target_is_directory=True)
    binary = root / "main"
    if copy_real_binary:
        binary.write_bytes((PACKAGE_DIR / "main").read_bytes())
        binary.chmod(0o644)  # the wheel lost its +x bit
    else:
        binary.write_text("#!/bin/sh\n" + (script or ""), encoding="utf-8")
        binary.chmod(0o755)
    return root


def test_binary_without_exec_bit_is_made_executable(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path / "vinorm", copy_real_binary=True)
    runner = VinormRunner(pkg)
    assert runner.normalize_many(["Có 2 con mèo"]) == ["có hai con mèo"]
    assert os.access(runner._binary, os.X_OK)


def test_read_only_install_runs_a_private_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _fake_package(tmp_path / "vinorm", copy_real_binary=True)
    real_chmod = Path.chmod

    def read_only_chmod(self: Path, mode: int, **kwargs) -> None:
        if self.parent == pkg:
            raise PermissionError(30, "Read-only file system", str(self))
        real_chmod(self, mode, **kwargs)

    monkeypatch.setattr(Path, "chmod", read_only_chmod)
    runner = VinormRunner(pkg)
    assert runner.normalize_many(["Có 2 con mèo"]) == ["có hai con mèo"]
    private = runner._binary.parent
    assert private != pkg and os.access(runner._binary, os.X_OK)
    assert not os.access(pkg / "main", os.X_OK)  # the install was left alone
    runner.close()
    assert not private.exists()


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    runner = VinormRunner()  # nothing happens before the first use
    with pytest.raises(VinormNotInstalledError, match="not installed"):
        runner.normalize_many(["a"])
    with pytest.raises(VinormNotInstalledError):
        TextFrontend(runner=runner).check()


def test_incomplete_package_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "vinorm").mkdir()
    (tmp_path / "vinorm" / "Dict").mkdir()
    with pytest.raises(VinormNotInstalledError, match="main.*Mapping.*RegexRule.*lib"):
        locate_vinorm(tmp_path / "vinorm")


def test_failing_engine(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path / "vinorm", "echo 'bad dictionary' >&2\nexit 3\n")
    with pytest.raises(VinormFailedError, match="status 3: bad dictionary"):
        VinormRunner(pkg).normalize_many(["a"])


def test_engine_without_output(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path / "vinorm", "exit 0\n")
    with pytest.raises(VinormFailedError, match="no output"):
        VinormRunner(pkg).normalize_many(["a"])


def test_engine_with_the_wrong_number_of_records(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path / "vinorm", "printf 'a#line#b#line#' > output.txt\n")
    with pytest.raises(VinormFailedError, match="2 records for 1 lines"):
        VinormRunner(pkg).normalize_many(["x"])


def test_engine_timeout(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path / "vinorm", "exec sleep 5\n")
    with pytest.raises(VinormTimeoutError, match="longer than 0.3 s"):
        VinormRunner(pkg, timeout=0.3).normalize_many(["a"])


def test_lost_separator_falls_back_to_one_text_per_line(tmp_path: Path) -> None:
    # An engine that eats the separator word: the batch is re-run one text per line.
    script = "sed -e 's/ *qqsepqq */ /g' -e 's/$/#line#/' input.txt | tr -d '\\n' > output.txt\n"
    pkg = _fake_package(tmp_path / "vinorm", script)
    runner = VinormRunner(pkg)
    assert runner.normalize_many(["một", "hai", "ba"]) == ["một", "hai", "ba"]
    assert runner.calls == 2
