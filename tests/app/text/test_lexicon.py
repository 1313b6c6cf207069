"""The pronunciation lexicon: file format, matching, overrides, reloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.services.text import TextFrontend
from app.services.text.errors import InvalidLexiconError, LexiconFileError
from app.services.text.lexicon import (
    DEFAULT_LEXICON_PATH,
    Lexicon,
    LexiconFile,
    entries_from_mapping,
    make_entry,
    parse_lexicon,
)


def lex(*rows: tuple[str, ...]) -> Lexicon:
    return Lexicon(make_entry(*row) for row in rows)


def test_parse_lexicon_format() -> None:
    entries = parse_lexicon(
        "# comment\n\nAI\tây ai\niPhone\tAi Phôn\n  \nWHO\tvê kép hát ô\tignore\nabc\ta bê xê\texact\n"
    )
    assert [(e.term, e.reading, e.ignore_case) for e in entries] == [
        ("AI", "ây ai", False),  # all capitals: exact
        ("iPhone", "ai phôn", True),  # has a lower-case letter: any case; readings lower-cased
        ("WHO", "vê kép hát ô", True),
        ("abc", "a bê xê", False),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AI ây ai\n", "lexicon.tsv:1: expected"),
        ("ok\tô kê\n\nx\ty\tz\tw\n", "lexicon.tsv:3: expected"),
        ("\tây ai\n", "lexicon.tsv:1: a lexicon term is empty"),
        ("AI\tây ai\tmaybe\n", "lexicon.tsv:1: lexicon case"),
        ("...\tba chấm\n", "has no letter or digit"),
    ],
)
def test_parse_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(LexiconFileError, match=message):
        parse_lexicon(text, "lexicon.tsv")


def test_whole_words_only() -> None:
    lexicon = lex(("AI", "ây ai"), ("iPhone", "ai phôn"))
    assert lexicon.apply("AI, (AI) và AI.") == "ây ai, (ây ai) và ây ai."
    assert lexicon.apply("OpenAI, AIDS, MAI, AI2, iPhones") == "OpenAI, AIDS, MAI, AI2, iPhones"


def test_case_rules() -> None:
    lexicon = lex(("AI", "ây ai"), ("iPhone", "ai phôn"), ("ok", "ô kê", "exact"))
    # An all-capitals term never eats the Vietnamese word "ai" ("who").
    assert lexicon.apply("Ai dùng AI? ai biết.") == "Ai dùng ây ai? ai biết."
    assert lexicon.apply("IPHONE, iphone, IPhone") == "ai phôn, ai phôn, ai phôn"
    assert lexicon.apply("ok, OK") == "ô kê, OK"


def test_longest_match_and_multi_word_terms() -> None:
    lexicon = lex(("Pro", "prô"), ("Pro Max", "prô mác"), ("iPhone", "ai phôn"))
    assert lexicon.apply("iPhone 15 Pro Max và Pro") == "ai phôn 15 prô mác và prô"
    assert lexicon.apply("Pro   Max") == "prô mác"


def test_terms_with_punctuation_and_digits() -> None:
    lexicon = lex(("V.League", "vi lích"), ("5G", "năm gờ"), ("M-TP", "em tê pê"), ("C++", "xê cộng cộng"))
    assert lexicon.apply("V.League, mạng 5G, M-TP, C++.") == "vi lích, mạng năm gờ, em tê pê, xê cộng cộng."
    assert lexicon.apply("15G và XM-TP") == "15G và XM-TP"


def test_one_pass_readings_are_not_matched_again() -> None:
    lexicon = lex(("AI", "ây ai"), ("ây", "SAI"))
    assert lexicon.apply("AI") == "ây ai"


def test_merged_extra_entries_override_the_file() -> None:
    base = lex(("AI", "ây ai"), ("iPhone", "ai phôn"))
    merged = base.merged(entries_from_mapping({"ai": "trí tuệ nhân tạo", "Zalo": "da lô"}))
    # "ai" (auto: lower-case -> any case) replaces "AI" and now matches "ai" too.
    assert merged.apply("AI, iPhone, Zalo") == "trí tuệ nhân tạo, ai phôn, da lô"
    assert base.apply("AI, Zalo") == "ây ai, Zalo"  # the base is unchanged
    assert len(merged) == 3


def test_invalid_extra_entries() -> None:
    with pytest.raises(InvalidLexiconError):
        entries_from_mapping({"": "x"})
    with pytest.raises(InvalidLexiconError):
        entries_from_mapping({"a": 3})  # type: ignore[dict-item]
    with pytest.raises(InvalidLexiconError):
        entries_from_mapping({"x" * 101: "y"})
    with pytest.raises(InvalidLexiconError):
        entries_from_mapping(["AI"])  # type: ignore[arg-type]
    assert InvalidLexiconError.status_code == 400


def test_lexicon_file_reloads_when_edited(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("AI\tây ai\n", encoding="utf-8")
    store = LexiconFile(path)
    assert store.current().apply("AI") == "ây ai"
    first = store.current()
    assert store.current() is first  # not re-read when unchanged

    path.write_text("AI\ta i\nZalo\tda lô\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert store.current().apply("AI Zalo") == "a i da lô"

    # A broken edit keeps the last good lexicon (logged), the service stays up.
    path.write_text("broken line without tab\n", encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert store.current().apply("AI Zalo") == "a i da lô"

    path.unlink()
    assert store.current().apply("AI") == "AI"


def test_lexicon_file_broken_at_start_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("AI\n", encoding="utf-8")
    with pytest.raises(LexiconFileError, match="lexicon.tsv:1"):
        LexiconFile(path)
    path.write_bytes(b"AI\t\xff\xfe\n")
    with pytest.raises(LexiconFileError, match="cannot read"):
        LexiconFile(path)


def test_missing_file_is_an_empty_lexicon(tmp_path: Path) -> None:
    assert len(LexiconFile(tmp_path / "absent.tsv").current()) == 0


def test_with_extra_is_cached_per_entries(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("AI\tây ai\n", encoding="utf-8")
    store = LexiconFile(path)
    a = store.with_extra({"Zalo": "da lô"})
    assert store.with_extra({"Zalo": "da lô"}) is a
    assert store.with_extra(None) is store.current()
    assert store.with_extra({"Zalo": "za lô"}).apply("Zalo AI") == "za lô ây ai"


def test_default_lexicon_ships_and_parses() -> None:
    assert DEFAULT_LEXICON_PATH.is_file()
    entries = LexiconFile().current().entries
    terms = {e.term for e in entries}
    assert {"AI", "iPhone", "Facebook", "USD", "5G"} <= terms
    assert len(entries) >= 80


def test_every_default_reading_survives_vinorm(frontend: TextFrontend) -> None:
    """Readings go through Vinorm: none may be spelled out or altered by it."""
    entries = frontend.lexicon.current().entries
    outputs = frontend.normalize_many([e.term for e in entries])
    wrong = [(e.term, e.reading, out) for e, out in zip(entries, outputs) if out != e.reading + "."]
    assert wrong == []


def test_lexicon_in_the_frontend_before_vinorm(frontend: TextFrontend) -> None:
    assert frontend.normalize("Tôi dùng AI và iPhone, còn ai dùng Samsung?") == (
        "tôi dùng ây ai và ai phôn, còn ai dùng sam sung?"
    )
    # Without the lexicon Vinorm spells these letter by letter or misreads them.
    assert frontend.normalize("V.League có 5G, USD tăng.") == "vi lích có năm gờ, đô la mỹ tăng."
    assert frontend.normalize("ThS. Lê và Sơn Tùng M-TP.") == "thạc sĩ lê và sơn tùng em tê pê."


def test_extra_lexicon_per_request(frontend: TextFrontend) -> None:
    extra = {"AI": "a i", "Nguyễn Văn A": "anh nguyễn", "Zalo Pay": "da lô pay"}
    assert frontend.normalize("AI và Nguyễn Văn A dùng Zalo Pay.", extra_lexicon=extra) == (
        "a i và anh nguyễn dùng da lô pay."
    )
    assert frontend.normalize("AI.") == "ây ai."  # the file's entry again for other requests
    with pytest.raises(InvalidLexiconError):
        frontend.normalize("x", extra_lexicon={"  ": "y"})


def test_configurable_lexicon_path(tmp_path: Path, frontend: TextFrontend) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text("mèo\tcon mèo nhỏ\n", encoding="utf-8")
    mine = TextFrontend(path, runner=frontend.runner)
    assert mine.lexicon.path == path
    assert mine.normalize("Mèo và AI.") == "con mèo nhỏ và ai."
