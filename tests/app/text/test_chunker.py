"""Chunking Vietnamese long text: sentences, short-sentence merges, breaks at
commas near 20 words, the byte budget, and numbers kept whole."""

from __future__ import annotations

import re

import pytest

from app.services.text import TextFrontend
from app.services.text.chunker import NUMBER_WORDS, ChunkPolicy, chunk_text, utf8_len
from tests.app.text.conftest import NEWS, NEWS_ECONOMY, NEWS_WEATHER

BUDGETS = (40, 60, 90, 120, 180, 250, 400)


def words(chunk: str) -> int:
    return len(chunk.split())


def number_runs(text: str) -> list[str]:
    """Maximal runs of two or more number words (verbalized numbers)."""
    runs, current = [], []
    for token in [*text.split(), "."]:
        core = token.rstrip(".,!?;:")
        if core in NUMBER_WORDS and core == token:
            current.append(core)
            continue
        if core in NUMBER_WORDS:
            current.append(core)
        if len(current) >= 2:
            runs.append(" ".join(current))
        current = []
    return runs


@pytest.fixture(scope="module")
def news(frontend: TextFrontend) -> list[str]:
    return frontend.normalize_many(NEWS)


def assert_valid(text: str, chunks: list[str], max_bytes: int) -> None:
    assert " ".join(chunks) == " ".join(text.split())  # nothing lost, nothing split inside a word
    for chunk in chunks:
        assert chunk == chunk.strip() and chunk
        assert utf8_len(chunk) <= max_bytes or len(chunk.split()) == 1


@pytest.mark.parametrize("max_bytes", BUDGETS)
def test_news_paragraphs_respect_the_budget_and_lose_nothing(news: list[str], max_bytes: int) -> None:
    for text in news:
        assert_valid(text, chunk_text(text, max_bytes), max_bytes)


def test_news_with_a_roomy_budget_break_only_at_punctuation(news: list[str]) -> None:
    for text in news:
        chunks = chunk_text(text, 250)
        assert len(chunks) >= 5
        for chunk in chunks:
            assert chunk[-1] in ".!?,;:", chunk  # never between two words
            assert 4 <= words(chunk) <= 35, chunk


def test_sentences_stay_whole_when_they_fit(frontend: TextFrontend, news: list[str]) -> None:
    text = news[1]  # weather
    chunks = chunk_text(text, 250)
    assert "nhiệt độ thấp nhất từ hai mươi tư đến hai mươi sáu độ xê." in chunks
    # A long sentence is broken at its commas, into pieces near the 20-word target.
    long_sentence = [c for c in chunks if c.startswith("cơ quan chức năng")]
    assert long_sentence == ["cơ quan chức năng khuyến cáo các hộ dân ở vùng trũng thấp,"]
    assert "đồng thời theo dõi chặt chẽ các bản tin cảnh báo thiên tai được phát trên sóng phát thanh," in chunks
    # No chunk runs past a sentence end only to stop mid-sentence.
    for chunk in chunks:
        inner = re.search(r"[.!?] ", chunk)
        assert not inner or chunk[-1] in ".!?", chunk


def test_short_sentences_are_merged(frontend: TextFrontend) -> None:
    text = frontend.normalize(
        "Vâng. Tôi hiểu. Hội đồng nhân dân thành phố đã thông qua nghị quyết về phát triển giao thông "
        "công cộng đến năm 2030. Rất tốt. Cảm ơn anh."
    )
    chunks = chunk_text(text, 300)
    assert all(words(c) >= 4 for c in chunks), chunks
    assert chunks[0].startswith("vâng. tôi hiểu.")
    assert chunks[-1].endswith("rất tốt. cảm ơn anh.")


def test_short_sentences_pack_up_to_the_target_but_long_ones_do_not() -> None:
    eight = "một hai ba bốn năm sáu bảy tám."  # 8 words
    fifteen = "các em học sinh đã đến trường từ rất sớm để chuẩn bị cho lễ khai giảng."
    assert chunk_text(f"{eight} {eight}", 500) == [f"{eight} {eight}"]
    assert chunk_text(f"{fifteen} {fifteen}", 500) == [fifteen, fifteen]


def test_long_sentence_breaks_at_the_middle_comma() -> None:
    left = "theo kế hoạch của thành phố trong giai đoạn tới các dự án giao thông trọng điểm sẽ được ưu tiên"
    right = "đặc biệt là các tuyến đường sắt đô thị kết nối trung tâm với các huyện ngoại thành phía tây"
    text = f"năm nay, {left}, {right}, theo sở."
    chunks = chunk_text(text, 1000)
    assert chunks == [f"năm nay, {left},", f"{right}, theo sở."]


def test_a_sentence_near_twenty_words_is_not_broken() -> None:
    text = "sáng nay, tại trụ sở ủy ban, lãnh đạo thành phố đã gặp gỡ các doanh nghiệp để bàn về kế hoạch năm tới."
    assert 20 <= words(text) <= 25
    assert chunk_text(text, 1000) == [text]


def test_semicolons_and_colons_are_preferred_over_commas() -> None:
    a = "khu vực công nghiệp tăng mạnh, đóng góp nhiều nhất vào mức tăng trưởng chung của cả nước"
    b = "khu vực dịch vụ tăng, đóng góp phần còn lại vào mức tăng trưởng của toàn bộ nền kinh tế"
    chunks = chunk_text(f"{a}; {b}.", 1000)
    assert chunks == [f"{a};", f"{b}."]


def test_no_punctuation_breaks_between_words_evenly_before_a_conjunction() -> None:
    text = (
        "người dân trong khu vực đã được thông báo về kế hoạch sơ tán từ nhiều ngày trước "
        "và chính quyền địa phương đã chuẩn bị đầy đủ lương thực nước uống cùng thuốc men cho các điểm tập trung"
    )
    chunks = chunk_text(text, 150)
    assert_valid(text, chunks, 150)
    assert len(chunks) == 2
    assert chunks[1].startswith("và chính quyền")


def test_a_word_longer_than_the_budget_stands_alone() -> None:
    text = "xin chào supercalifragilisticexpialidocious bạn"
    chunks = chunk_text(text, 10)
    assert "supercalifragilisticexpialidocious" in chunks
    assert_valid(text, chunks, 10)


def test_verbalized_number_from_digits_stays_in_one_chunk(frontend: TextFrontend) -> None:
    text = frontend.normalize(
        "Tại buổi lễ hôm qua ở thủ đô có tổng cộng 123 đại biểu cùng nhiều khách mời quốc tế tham dự và phát biểu"
    )
    assert "một trăm hai mươi ba" in text
    for max_bytes in range(40, 200, 7):
        chunks = chunk_text(text, max_bytes)
        assert_valid(text, chunks, max_bytes)
        assert any("một trăm hai mươi ba" in c for c in chunks), (max_bytes, chunks)


def test_vinorm_comma_inside_a_number_is_no_break_point(frontend: TextFrontend) -> None:
    # Vinorm writes "một tỷ , hai trăm ..." for 1.234.567.890; normalization removes that comma.
    text = frontend.normalize("Dân số thế giới khi đó có 1.234.567.890 người, theo ước tính.")
    number = "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi"
    assert number in text and "tỷ," not in text
    chunks = chunk_text(text, utf8_len(number) + 2)
    assert number in chunks


def test_number_too_long_for_the_budget_breaks_after_a_scale_word() -> None:
    number = "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi"
    chunks = chunk_text(f"có {number} người.", 60)
    assert_valid(f"có {number} người.", chunks, 60)
    for left in chunks[:-1]:
        assert left.split()[-1] in {"tỷ", "triệu", "nghìn", "trăm"}, chunks


@pytest.mark.parametrize("max_bytes", BUDGETS)
def test_numbers_in_news_are_never_split_when_they_fit(news: list[str], max_bytes: int) -> None:
    for text in news:
        chunks = chunk_text(text, max_bytes)
        for run in number_runs(text):
            if utf8_len(run) <= max_bytes // 2:
                assert any(run in c for c in chunks), (run, max_bytes)


def test_edge_cases() -> None:
    assert chunk_text("", 100) == []
    assert chunk_text("   \n ", 100) == []
    assert chunk_text("xin chào.", 100) == ["xin chào."]
    with pytest.raises(ValueError):
        chunk_text("a", 0)
    with pytest.raises(ValueError):
        ChunkPolicy(target_words=0)


def test_policy_is_configurable() -> None:
    text = NEWS_ECONOMY.lower()
    small = chunk_text(text, 1000, ChunkPolicy(target_words=10))
    large = chunk_text(text, 1000, ChunkPolicy(target_words=40))
    assert len(small) > len(large)


def test_frontend_chunks_and_prepare(frontend: TextFrontend) -> None:
    prepared = frontend.prepare(NEWS_WEATHER, 180)
    assert prepared.text == frontend.normalize(NEWS_WEATHER)
    assert prepared.chunks == frontend.chunks(prepared.text, 180)
    assert " ".join(prepared.chunks) == prepared.text
    raw = frontend.prepare("Xin chào 123 bạn.", 100, skip_normalization=True)
    assert raw.text == "xin chào 123 bạn." and raw.chunks == ["xin chào 123 bạn."]


def test_chunking_is_fast(news: list[str]) -> None:
    import time

    text = " ".join(news * 20)  # ~500 sentences
    start = time.perf_counter()
    chunks = chunk_text(text, 200)
    assert time.perf_counter() - start < 2.0
    assert " ".join(chunks) == text
