"""Normalization: each of our rules alone (pure functions), then end to end
through the real Vinorm engine (where it is wrong or silent, and what we fix)."""

from __future__ import annotations

import unicodedata

import pytest

from app.services.text import TextFrontend
from app.services.text.normalizer import (
    Segment,
    assemble,
    basic_normalize,
    clean_text,
    clean_vinorm,
    drop_abbreviation_dots,
    expand_rules,
    roman_to_int,
    split_segments,
    strip_emoji_and_controls,
)

# --- cleaning -------------------------------------------------------------------------


def test_strip_emoji_and_controls() -> None:
    text = "Xin 😀👍🏽 chào\u200b bạn\x07\ufeff ❤️✅ 🇻🇳 1️⃣ ok\x00"
    assert strip_emoji_and_controls(text).split() == ["Xin", "chào", "bạn", "1", "ok"]
    assert strip_emoji_and_controls("a\tb\r\nc\u00a0d") == "a b \nc d"
    # A zero-width space separates words; joiners, soft hyphens and bidi marks are just dropped.
    assert strip_emoji_and_controls("xin\u200bchào cà\u00adphê\u200e\u200c") == "xin chào càphê"
    # Letters with marks, degree sign, currency and punctuation stay.
    assert strip_emoji_and_controls("Tiếng Việt 25°C €5, 100%!") == "Tiếng Việt 25°C €5, 100%!"


def test_clean_text_nfc_and_whitespace() -> None:
    decomposed = "Tie\u0302\u0301ng   Vie\u0323\u0302t"
    assert clean_text(decomposed) == "Tiếng Việt."
    assert clean_text(decomposed) == unicodedata.normalize("NFC", clean_text(decomposed))
    assert clean_text("  a \t\t b  ") == "a b."


def test_clean_text_lines_become_sentences() -> None:
    assert clean_text("TIÊU ĐỀ\nDòng hai\n\n- mục một\n* mục hai\n1. mục ba\nXong!") == (
        "TIÊU ĐỀ. Dòng hai. mục một. mục hai. mục ba. Xong!"
    )


def test_clean_text_punctuation_tidying() -> None:
    assert clean_text("Chờ đã… rồi....") == "Chờ đã... rồi..."
    assert clean_text("Anh nói — rồi đi – thật.") == "Anh nói, rồi đi, thật."
    assert clean_text("năm 2000–2010") == "năm 2000-2010."
    assert clean_text("chào,tôi;bạn!khỏe") == "chào, tôi; bạn! khỏe."
    assert clean_text("số 3,14 và 1.000") == "số 3,14 và 1.000."  # numbers keep their marks
    assert clean_text("“Xin chào” — anh nói.") == "Xin chào, anh nói."
    assert clean_text("Hết. — Không.") == "Hết. Không."


def test_basic_normalize_only_nfc_whitespace_lower() -> None:
    assert basic_normalize("  Giá   $50,\tTIE\u0302\u0301NG  Việt 😀 ") == "giá $50, tiếng việt 😀"


# --- rules before Vinorm ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giá $50 và $1,5 triệu", "Giá 50 đô la và 1,5 triệu đô la"),
        ("£10, ¥100, €20, ₫500 và US$5", "10 bảng anh, 100 yên, 20 ơ rô, 500 đồng và 5 đô la mỹ"),
        ("giá 50.000₫ hay 20 €", "giá 50.000 đồng hay 20 ơ rô"),
        ("khoảng 5tr hay 2,5 tr", "khoảng 5 triệu hay 2,5 triệu"),
        ("độ ẩm 80-90%", "độ ẩm 80 đến 90%"),
        ("năm 1975-1980, giai đoạn 2000 - 2010.", "năm 1975 đến 1980, giai đoạn 2000 đến 2010."),
        ("từ 15-20 người, 24-26°C", "từ 15 đến 20 người, 24 đến 26°C"),
        ("tỷ số 2-1, thắng 3-0, ngày 1-5 nghỉ", "tỷ số 2-1, thắng 3-0, ngày 1-5 nghỉ"),
        ("từ 10-12/3", "từ 10 đến 12/3"),
        ("ngày 12-10/3", "ngày 12-10/3"),  # not a range: the first day is the later one
        ("nhiệt độ -5 độ (-3)", "nhiệt độ âm 5 độ (âm 3)"),
        ("COVID-19 và 10-3", "COVID-19 và 10-3"),
        ("quý 3/2024; ngày 15/8/2024", "quý 3 năm 2024; ngày 15/8/2024"),
        ("lãi 6,5%/năm", "lãi 6,5% trên năm"),
        ("305 người/km2, đồng/lượng, vòng/phút", "305 người trên ki lô mét vuông, đồng trên lượng, vòng trên phút"),
        ("60km/h", "60km/h"),  # Vinorm reads this one itself
        ("gọi 024.3826.1234 hay 0912-345-678", "gọi 02438261234 hay 0912345678"),
        ("+84 912.345.678", "+84912345678"),
        ("số 1.234.567 người", "số 1.234.567 người"),  # a number, not a phone
        ("Quý IV, phần II, tập XII", "Quý 4, phần 2, tập 12"),
        ("quý IIII, phần ix", "quý IIII, phần ix"),  # not canonical / not capitals
    ],
)
def test_expand_rules(text: str, expected: str) -> None:
    assert expand_rules(text) == expected


def test_roman_to_int() -> None:
    assert [roman_to_int(r) for r in ("I", "IV", "IX", "XIV", "XXXIX")] == [1, 4, 9, 14, 39]
    assert roman_to_int("IIII") is None and roman_to_int("VX") is None


def test_drop_abbreviation_dots_only_before_a_name_or_number() -> None:
    assert drop_abbreviation_dots("ThS. Lê, TP. Huế, Q. 1") == "ThS Lê, TP Huế, Q 1"
    assert drop_abbreviation_dots("ở FPT. Hôm nay") == "ở FPT. Hôm nay"  # a sentence end
    assert drop_abbreviation_dots("là TS. rồi") == "là TS. rồi"


# --- segments and Vinorm's leftovers ------------------------------------------------------------


def test_split_segments_sets_the_writers_punctuation_aside() -> None:
    assert split_segments("Xin chào, bạn ơi! Thật sao?! Ừ... 3.14 và 1,5 ; hết") == [
        Segment("Xin chào", ","),
        Segment("bạn ơi", "!"),
        Segment("Thật sao", "?!"),
        Segment("Ừ", "..."),
        Segment("3.14 và 1,5", ";"),
        Segment("hết", ""),
    ]
    assert split_segments("Hay quá!!! (thật) Vâng.)") == [
        Segment("Hay quá", "!"),
        Segment("(thật) Vâng", "."),
    ]


def test_clean_vinorm_removes_what_vinorm_put_inside_a_body() -> None:
    assert clean_vinorm("một tỷ , hai trăm ba mươi tư triệu") == "một tỷ hai trăm ba mươi tư triệu"
    assert clean_vinorm("năm . league") == "năm league"
    assert clean_vinorm("mười hai giờ ba mươi tư : năm mươi sáu") == "mười hai giờ ba mươi tư năm mươi sáu"
    assert clean_vinorm("một / ba") == "một trên ba"
    assert clean_vinorm("mã 42 và x_y") == "mã bốn hai và x y"


def test_assemble_attaches_punctuation_and_lowercases() -> None:
    assert assemble(["Xin chào", "bạn", ""], [",", "!", "?"]) == "xin chào, bạn!"
    assert assemble(["", "một"], [".", "."]) == "một."
    assert assemble(["a", "", "b"], ["", ",", ""]) == "a, b"


# --- end to end through Vinorm (no lexicon) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Sentence punctuation survives exactly (Vinorm without -punc turns : ! ? ; into . and ,)
        (
            "Xin chào, bạn khỏe không? Tôi khỏe! Nhưng: hơi mệt; thật đấy.",
            "xin chào, bạn khỏe không? tôi khỏe! nhưng: hơi mệt; thật đấy.",
        ),
        ("Anh ấy nói: “Tôi mua xe!” Thật không?", "anh ấy nói: tôi mua xe! thật không?"),
        # Vinorm drops "..." entirely.
        ("Chờ đã... Được rồi… Đi thôi!!!", "chờ đã... được rồi... đi thôi!"),
        # Vinorm writes "một tỷ , hai trăm ..." (a comma inside the number): gone.
        (
            "Dân số 1.234.567.890 người.",
            "dân số một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi người.",
        ),
        (
            "Lúc 14h30 ngày 2/9/2024, 25°C.",
            "lúc mười bốn giờ ba mươi ngày hai tháng chín năm hai nghìn không trăm hai mươi tư, hai mươi lăm độ xê.",
        ),
        # Vinorm drops $, £, ¥, ₫ before or after the amount.
        (
            "Giá $50, £10, €20, ¥100, 50.000₫ và US$5.",
            "giá năm mươi đô la, mười bảng anh, hai mươi ơ rô, một trăm yên, năm mươi nghìn đồng và năm đô la mỹ.",
        ),
        # Vinorm drops the dash of a range ("tám mươi chín mươi phần trăm").
        (
            "Độ ẩm 80-90%, năm 1975-1980, 15-20 người, tỷ số 2-1, ngày 1-5.",
            "độ ẩm tám mươi đến chín mươi phần trăm, năm một nghìn chín trăm bảy mươi lăm đến một nghìn "
            "chín trăm tám mươi, mười lăm đến hai mươi người, tỷ số hai một, ngày một tháng năm.",
        ),
        ("Nhiệt độ -5 độ.", "nhiệt độ âm năm độ."),  # Vinorm drops the sign
        (
            "Quý 3/2024 và tháng 3/2024.",
            "quý ba năm hai nghìn không trăm hai mươi tư và tháng ba năm hai nghìn không trăm hai mươi tư.",
        ),
        # Vinorm: "sáu phẩy năm năm" and "ngư i xuyệt km hai" (it breaks the word "người").
        (
            "Lãi suất 6,5%/năm, 305 người/km2.",
            "lãi suất sáu phẩy năm phần trăm trên năm, ba trăm linh năm người trên ki lô mét vuông.",
        ),
        # Vinorm: "mười mười hai xuyệt ba" and a decimal number for the phone.
        (
            "Từ 10-12/3, gọi 024.3826.1234.",
            "từ mười đến mười hai tháng ba, gọi không hai bốn ba tám hai sáu một hai ba bốn.",
        ),
        ("Khoảng 5tr đồng.", "khoảng năm triệu đồng."),  # Vinorm: "năm tê rờ"
        ("Quý I, phần I, tập IV.", "quý một, phần một, tập bốn."),  # Vinorm: "quý i"
        ("Chương IV, thế kỷ XXI.", "chương bốn, thế kỷ hai mươi mốt."),
        ("GDP, WHO và VTV.", "giy đi pi, đắp liu ếch âu và vi ti vi."),  # acronyms spelled
        ("TIÊU ĐỀ\nDòng hai\n- mục một", "tiêu đề. dòng hai. mục một."),
        ("Xin chào 😀👍🏽 bạn\u200b ơi\x07\ufeff! ❤️✅", "xin chào bạn ơi!"),
        ("   nhiều    khoảng\t\ttrắng \n\n  ", "nhiều khoảng trắng."),
        ("Tie\u0302\u0301ng Vie\u0323\u0302t", "tiếng việt."),
        ("...", ""),
        ("😀 \x07", ""),
    ],
)
def test_end_to_end(bare_frontend: TextFrontend, text: str, expected: str) -> None:
    assert bare_frontend.normalize(text) == expected


def test_output_is_lower_nfc_and_single_spaced(frontend: TextFrontend) -> None:
    from tests.app.text.conftest import NEWS

    for text in frontend.normalize_many(NEWS):
        assert text == text.lower()
        assert text == unicodedata.normalize("NFC", text)
        assert "  " not in text and text == text.strip()
        assert not any(ch.isdigit() for ch in text)
        assert all(ch.isalpha() or ch == " " or ch in ".,!?;:" for ch in text)
