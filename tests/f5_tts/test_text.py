import pytest
import torch

from f5_tts.errors import InvalidTextError
from f5_tts.text import (
    Vocab,
    check_text,
    normalize_for_model,
    prepare_reference_text,
    segment,
    tokenize,
)


def seg(text: str) -> str:
    return "".join(segment(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gắng", "gắ ng"),
        ("trường", "trườ ng"),
        ("đang", "đ ang"),
        ("không", "khô ng"),
        ("hệ thống", "hệ thố ng"),
        ("đâu...", "đâu ..."),
        ("người", "người"),
    ],
)
def test_segmentation_quirk_examples_from_training(text, expected):
    assert seg(text) == expected


def test_semicolon_and_curly_quotes_are_mapped_before_segmenting():
    assert seg("a; b") == "a, b"
    assert seg("\u201cchào\u201d \u2018x\u2019") == "\"chào\" 'x'"


def test_no_space_after_space_colon_or_quote():
    # "ng" after ':' or a quote gets no inserted space; after a letter it does.
    assert seg("a:ng") == "a:ng"
    assert seg("'ng") == "'ng"
    assert seg("ững") == "ữ ng"


def test_vocab_file_keeps_the_space_line_and_maps_unknown_to_zero(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text(" \na\nb\nắ\n", encoding="utf-8")
    vocab = Vocab.from_file(path)
    assert vocab.tokens == [" ", "a", "b", "ắ"]
    assert vocab.ids(["a", "ắ", "z", " "]) == [1, 3, 0, 0]
    assert not vocab.case_sensitive


def test_tokenize_pads_with_minus_one_and_composes_nfc():
    vocab = Vocab([" ", "a", "n", "g", "ắ"])
    decomposed = "ga\u0306\u0301ng"  # g + a + breve + acute + ng: NFC gives "gắng"
    ids = tokenize([decomposed, "a"], vocab)
    # "gắng" segments as g, ắ, ' ', n, g
    assert ids.tolist() == [[3, 4, 0, 2, 3], [1, -1, -1, -1, -1]]
    assert ids.dtype == torch.long


def test_normalize_for_model():
    assert normalize_for_model("  Xin_chào\n  Bạn ", lowercase=True) == "xin chào bạn"
    assert normalize_for_model("Xin  Chào", lowercase=False) == "Xin Chào"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("xin chào", "xin chào.  "),
        ("xin chào.", "xin chào.  "),
        ("xin chào. ", "xin chào.  "),
        ("vâng!", "vâng!  "),
    ],
)
def test_reference_text_ends_like_training_era_inference(ref, expected):
    assert prepare_reference_text(ref) == expected


def test_check_text_rejects_empty_and_unknown_only():
    vocab = Vocab([" ", "a"])
    with pytest.raises(InvalidTextError, match="empty"):
        check_text("   ", vocab)
    with pytest.raises(InvalidTextError, match="no character"):
        check_text("日本語", vocab)
    check_text("a日", vocab)
