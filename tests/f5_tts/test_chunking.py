"""Tests for f5_tts.chunking: byte budgets, sentence splitting, packing, durations."""

from __future__ import annotations

import itertools
import random
import unicodedata

import pytest

from f5_tts.chunking import (
    MIN_CHUNK_BYTES,
    chunk_text,
    estimate_duration_frames,
    max_chunk_bytes,
    split_sentences,
    utf8_len,
)

# --- utf8_len -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,chars,nbytes",
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("đ", 1, 2),
        ("ă", 1, 2),
        ("ắ", 1, 3),
        ("người", 5, 8),
        ("trường", 6, 9),
        ("Tiếng Việt", 10, 14),
        ("Xin chào", 8, 9),
        ("你好", 2, 6),
    ],
)
def test_utf8_len_counts_bytes_not_characters(text: str, chars: int, nbytes: int) -> None:
    assert len(text) == chars
    assert utf8_len(text) == nbytes


def test_utf8_len_depends_on_normalisation() -> None:
    # Decomposed "ế" is e + two combining marks: 1 + 2 + 2 bytes.
    nfc = unicodedata.normalize("NFC", "ế")
    nfd = unicodedata.normalize("NFD", "ế")
    assert (utf8_len(nfc), utf8_len(nfd)) == (3, 5)


def test_utf8_len_never_raises_on_lone_surrogates() -> None:
    assert utf8_len("a\ud800b") == 5


# --- max_chunk_bytes ----------------------------------------------------------------


def test_max_chunk_bytes_formula() -> None:
    # 100 bytes in 10 s = 10 B/s; 22 - 10 = 12 s left -> 120 bytes.
    assert max_chunk_bytes(100, 10.0) == 120
    assert max_chunk_bytes(100, 10.0, speed=0.9) == 108
    assert max_chunk_bytes(100, 10.0, speed=1.5) == 180
    assert max_chunk_bytes(100, 10.0, max_total_seconds=30.0) == 200
    # int() truncates: 57 / 7.3 * 14.7 = 114.78...
    assert max_chunk_bytes(57, 7.3) == 114


def test_max_chunk_bytes_floor_for_long_references() -> None:
    assert max_chunk_bytes(100, 21.0) == MIN_CHUNK_BYTES  # formula gives 4
    assert max_chunk_bytes(100, 22.0) == MIN_CHUNK_BYTES  # formula gives 0
    assert max_chunk_bytes(100, 30.0) == MIN_CHUNK_BYTES  # formula is negative
    assert MIN_CHUNK_BYTES == 32


@pytest.mark.parametrize(
    "args",
    [
        (0, 5.0, 1.0),
        (-3, 5.0, 1.0),
        (100, 0.0, 1.0),
        (100, -1.0, 1.0),
        (100, 5.0, 0.0),
        (100, float("nan"), 1.0),
    ],
)
def test_max_chunk_bytes_rejects_nonsense(args: tuple) -> None:
    with pytest.raises(ValueError):
        max_chunk_bytes(*args)


# --- split_sentences --------------------------------------------------------------------


def test_split_vietnamese_sentences_keeps_punctuation() -> None:
    text = "Xin chào các bạn. Hôm nay trời đẹp quá! Bạn có khỏe không? Tôi rất vui."
    assert split_sentences(text) == [
        "Xin chào các bạn.",
        "Hôm nay trời đẹp quá!",
        "Bạn có khỏe không?",
        "Tôi rất vui.",
    ]


def test_split_at_clause_punctuation() -> None:
    text = "Sáng nay, tôi đi chợ; mua rau: cải, muống và dền… Rồi về nhà"
    assert split_sentences(text) == [
        "Sáng nay,",
        "tôi đi chợ;",
        "mua rau:",
        "cải,",
        "muống và dền…",
        "Rồi về nhà",
    ]


def test_split_needs_whitespace_after_ascii_punctuation() -> None:
    text = "Giá là 3,5 triệu đồng cho 1.000 người, tại TP.HCM lúc 7:30 sáng."
    assert split_sentences(text) == [
        "Giá là 3,5 triệu đồng cho 1.000 người,",
        "tại TP.HCM lúc 7:30 sáng.",
    ]


def test_split_keeps_closing_quotes_with_sentence() -> None:
    text = 'Cô ấy nói: "Em về đây." (Rồi đi.) Anh ngạc nhiên.'
    assert split_sentences(text) == ["Cô ấy nói:", '"Em về đây."', "(Rồi đi.)", "Anh ngạc nhiên."]
    assert split_sentences("“Thật sao?” Tôi hỏi.") == ["“Thật sao?”", "Tôi hỏi."]


def test_split_cjk_punctuation_without_whitespace() -> None:
    assert split_sentences("你好。今天好吗？很好，谢谢！") == ["你好。", "今天好吗？", "很好，", "谢谢！"]


def test_split_collapses_whitespace_and_drops_empty_pieces() -> None:
    text = "  Một   hai\tba.\n\n  Bốn\nnăm sáu!   \n "
    assert split_sentences(text) == ["Một hai ba.", "Bốn năm sáu!"]
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []


def test_split_repeated_punctuation_stays_together() -> None:
    assert split_sentences("Thật sao?! Đúng vậy... Ừ.") == ["Thật sao?!", "Đúng vậy...", "Ừ."]


def test_split_without_punctuation_is_one_piece() -> None:
    assert split_sentences("không có dấu câu nào cả") == ["không có dấu câu nào cả"]


# --- chunk_text -------------------------------------------------------------------------

SENTENCES = [
    "Xin chào các bạn.",  # 17 characters, 21 bytes
    "Hôm nay trời đẹp quá!",  # 21 characters, 28 bytes
    "Chúng ta đi dạo nhé.",  # 20 characters, 25 bytes
    "Được thôi.",  # 10 characters, 15 bytes
]


def test_sentence_sizes_used_below() -> None:
    assert [utf8_len(s) for s in SENTENCES] == [21, 28, 25, 15]


def test_chunk_empty_text() -> None:
    assert chunk_text("", 100) == []
    assert chunk_text("  \n\t  ", 100) == []


def test_chunk_everything_fits_in_one() -> None:
    text = "  Xin chào các bạn.\n\nHôm nay   trời đẹp quá!  "
    assert chunk_text(text, 1000) == ["Xin chào các bạn. Hôm nay trời đẹp quá!"]


def test_chunk_packs_while_it_fits() -> None:
    text = " ".join(SENTENCES)
    # 21 + 1 + 28 = 50 fits 50; adding 25 would not. 25 + 1 + 15 = 41.
    assert chunk_text(text, 50) == [
        "Xin chào các bạn. Hôm nay trời đẹp quá!",
        "Chúng ta đi dạo nhé. Được thôi.",
    ]
    # One byte less and the first two no longer share a chunk.
    assert chunk_text(text, 49) == [
        "Xin chào các bạn.",
        "Hôm nay trời đẹp quá!",
        "Chúng ta đi dạo nhé. Được thôi.",
    ]


def test_chunk_budget_is_bytes_not_characters() -> None:
    a, b = "Đường đi khó.", "Người ơi."
    assert (len(a), len(b)) == (13, 9)
    assert (utf8_len(a), utf8_len(b)) == (19, 13)
    # 23 characters would fit 25, but 33 bytes do not.
    assert chunk_text(f"{a} {b}", 25) == [a, b]
    assert chunk_text(f"{a} {b}", 32) == [a, b]
    assert chunk_text(f"{a} {b}", 33) == [f"{a} {b}"]


def test_chunk_sentence_exactly_at_budget_stays_whole() -> None:
    s = "Hôm nay trời đẹp quá!"
    assert chunk_text(s, utf8_len(s)) == [s]


def test_long_sentence_is_split_at_words_into_even_pieces() -> None:
    sentence = " ".join(["ab"] * 10)  # 29 bytes
    # Greedy would give 20 + 8 bytes; the pieces are evened out instead.
    assert chunk_text(sentence, 20) == ["ab ab ab ab ab", "ab ab ab ab ab"]


def test_long_vietnamese_sentence_split_never_breaks_words() -> None:
    sentence = (
        "Trong những năm gần đây ngành công nghiệp trí tuệ nhân tạo ở Việt Nam đã phát triển "
        "rất mạnh mẽ và thu hút sự quan tâm của nhiều người trẻ tuổi."
    )
    pieces = chunk_text(sentence, 50)
    assert len(pieces) > 1
    assert all(utf8_len(p) <= 50 for p in pieces)
    assert " ".join(pieces) == sentence
    words = set(sentence.split())
    assert all(w in words for p in pieces for w in p.split())
    sizes = [utf8_len(p) for p in pieces]
    assert max(sizes) - min(sizes) <= 12  # evened out, no stub at the end


def test_oversized_word_stays_whole() -> None:
    word = "Nghiêngnghiêngnghiêng"  # 23 bytes, no space to split at
    assert chunk_text(f"Ừ. {word} nhé.", 10) == ["Ừ.", word, "nhé."]
    assert chunk_text(word, 5) == [word]


def test_long_sentence_starts_a_new_chunk_and_its_tail_takes_what_follows() -> None:
    long = "một hai ba bốn năm sáu bảy tám chín mười."
    assert utf8_len(long) == 54
    text = f"Chào. {long} Hết."
    # "Chào." is not mixed into the long sentence's first half; the second
    # half (25 bytes) has room for "Hết." (5 bytes) within 32.
    assert chunk_text(text, 32) == ["Chào.", "một hai ba bốn năm sáu", "bảy tám chín mười. Hết."]
    assert chunk_text(text, 31) == ["Chào.", "một hai ba bốn năm sáu", "bảy tám chín mười.", "Hết."]


def test_chunk_rejects_bad_budget() -> None:
    with pytest.raises(ValueError):
        chunk_text("Xin chào.", 0)


def test_chunk_long_text_properties() -> None:
    rng = random.Random(0)
    vocab = [
        "tôi",
        "bạn",
        "người",
        "trường",
        "học",
        "đường",
        "nhà",
        "cửa",
        "không",
        "được",
        "những",
        "chúng",
        "ta",
        "hôm",
        "nay",
        "ngày",
        "mai",
        "đẹp",
        "quá",
        "rất",
        "vui",
        "buồn",
        "thương",
        "nhớ",
        "quê",
        "hương",
        "Việt",
        "Nam",
        "tiếng",
        "nói",
        "yêu",
    ]
    sentences = []
    for _ in range(300):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 30))]
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ",", ";", "…"]))
    text = "  \n".join(sentences)
    normalised = " ".join(text.split())

    for budget in (32, 80, 135, 400):
        chunks = chunk_text(text, budget)
        assert " ".join(chunks) == normalised  # nothing lost, reordered or added
        assert all(c == c.strip() and "  " not in c for c in chunks)
        assert all(utf8_len(c) <= budget for c in chunks)  # no word in vocab exceeds 32 bytes
        # Greedy packing: a chunk ends before a sentence only when that sentence
        # would not fit; inside a sentence only when the sentence is over budget.
        pieces = split_sentences(text)
        starts, pos = {}, 0
        for piece in pieces:
            starts[pos] = piece
            pos += len(piece) + 1
        pos = 0
        for cur in chunks[:-1]:
            pos += len(cur) + 1
            if pos in starts:
                following = starts[pos]
                if utf8_len(following) <= budget:
                    assert utf8_len(cur) + 1 + utf8_len(following) > budget
            else:
                containing = max(p for p in starts if p < pos)
                assert utf8_len(starts[containing]) > budget


def test_chunk_is_deterministic() -> None:
    text = " ".join(SENTENCES * 20)
    assert chunk_text(text, 60) == chunk_text(text, 60)


# --- estimate_duration_frames -----------------------------------------------------------


def test_duration_formula_hand_checked() -> None:
    # 940 frames for 100 bytes = 9.4 frames per byte.
    assert estimate_duration_frames(940, 100, 50) == 940 + 470
    assert estimate_duration_frames(940, 100, 50, speed=2.0) == 940 + 235
    assert estimate_duration_frames(940, 100, 50, speed=0.5) == 940 + 940
    # 1000 / 300 * 50 = 166.67, truncated.
    assert estimate_duration_frames(1000, 300, 50) == 1166


def test_short_text_is_slowed_down() -> None:
    # Under 10 bytes the speed becomes 0.3, whatever was asked.
    assert estimate_duration_frames(1000, 100, 9) == 1000 + 300  # 10 * 9 / 0.3
    assert estimate_duration_frames(1000, 100, 9, speed=2.0) == 1300
    # At 10 bytes the asked speed applies again.
    assert estimate_duration_frames(1000, 100, 10) == 1000 + 100
    assert estimate_duration_frames(1000, 100, 10, speed=2.0) == 1000 + 50


def test_short_text_threshold_counts_bytes() -> None:
    # "Dạ vâng" is 7 characters but 10 bytes: not short. "Xin chào" is 9 bytes: short.
    ref_frames, ref_bytes = 1000, 100
    assert (len("Dạ vâng"), utf8_len("Dạ vâng")) == (7, 10)
    assert estimate_duration_frames(ref_frames, ref_bytes, utf8_len("Dạ vâng")) == 1000 + 100
    assert (len("Xin chào"), utf8_len("Xin chào")) == (8, 9)
    assert estimate_duration_frames(ref_frames, ref_bytes, utf8_len("Xin chào")) == 1000 + 300


def test_duration_of_empty_text_is_the_reference() -> None:
    assert estimate_duration_frames(1234, 50, 0) == 1234


def test_duration_vietnamese_bytes_versus_characters() -> None:
    gen = "Trường học của chúng tôi."
    assert (len(gen), utf8_len(gen)) == (25, 34)
    # 10 frames per byte: 340 frames, where counting characters would give 250.
    assert estimate_duration_frames(500, 50, utf8_len(gen)) == 500 + 340


@pytest.mark.parametrize(
    "args",
    [
        (-1, 10, 10, 1.0),
        (100, 0, 10, 1.0),
        (100, 10, -1, 1.0),
        (100, 10, 10, 0.0),
        (100, 10, 10, float("inf")),
    ],
)
def test_duration_rejects_nonsense(args: tuple) -> None:
    with pytest.raises(ValueError):
        estimate_duration_frames(*args)


def test_word_split_against_brute_force() -> None:
    # For small cases, compare with every way of cutting the word list: the
    # pieces must fit, be as few as possible, and have the smallest possible
    # largest piece for that count.
    rng = random.Random(1)
    syllables = ["a", "ơi", "đã", "người", "trường", "nghiêng", "ba", "tôi"]
    for _ in range(300):
        words = [rng.choice(syllables) for _ in range(rng.randint(2, 9))]
        budget = rng.randint(max(utf8_len(w) for w in words), 30)
        sentence = " ".join(words)
        if utf8_len(sentence) <= budget:
            continue
        pieces = chunk_text(sentence, budget)
        assert " ".join(pieces) == sentence
        assert all(utf8_len(p) <= budget for p in pieces)

        best: tuple[int, int] | None = None
        for mask in range(1 << (len(words) - 1)):
            cuts = [i + 1 for i in range(len(words) - 1) if mask >> i & 1]
            bounds = [0, *cuts, len(words)]
            sizes = [utf8_len(" ".join(words[a:b])) for a, b in itertools.pairwise(bounds)]
            if max(sizes) <= budget:
                key = (len(sizes), max(sizes))
                best = key if best is None or key < best else best
        assert best == (len(pieces), max(utf8_len(p) for p in pieces))
