"""Fixtures of the text front-end tests: the real Vinorm engine, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.text import TextFrontend, VinormRunner

NEWS_ECONOMY = (
    "Sáng 12/3/2024, tại Hà Nội, Bộ Kế hoạch và Đầu tư đã tổ chức hội nghị công bố tình hình kinh tế "
    "- xã hội quý I. Theo báo cáo, tổng sản phẩm trong nước (GDP) quý I ước tính tăng 5,66% so với cùng "
    "kỳ năm trước, cao hơn mức tăng của quý I các năm 2020-2023. Trong đó, khu vực nông, lâm nghiệp và "
    "thủy sản tăng 2,98%, đóng góp 6,09% vào mức tăng trưởng chung; khu vực công nghiệp và xây dựng tăng "
    "6,28%, đóng góp 37,47%; khu vực dịch vụ tăng 6,12%, đóng góp 56,44%. Vốn đầu tư trực tiếp nước ngoài "
    "thực hiện đạt 4,63 tỷ USD, tăng 7,1%. Kim ngạch xuất khẩu hàng hóa đạt 93,06 tỷ USD. Rất đáng mừng. "
    "Chỉ số giá tiêu dùng bình quân tăng 3,77%."
)
NEWS_WEATHER = (
    "Theo Trung tâm Dự báo khí tượng thủy văn quốc gia, từ đêm nay đến ngày 25/7, khu vực Bắc Bộ có mưa "
    "to đến rất to với lượng mưa phổ biến 100-200 mm, có nơi trên 300 mm. Người dân cần đề phòng lũ quét. "
    "Nhiệt độ thấp nhất từ 24-26°C. Cơ quan chức năng khuyến cáo các hộ dân ở vùng trũng thấp, ven sông "
    "suối và sườn đồi núi chủ động di chuyển đến nơi an toàn, đồng thời theo dõi chặt chẽ các bản tin "
    "cảnh báo thiên tai được phát trên sóng phát thanh, truyền hình và các trang thông tin điện tử chính "
    "thức. Hôm qua, lực lượng cứu hộ đã sơ tán 1.234 hộ dân với 4.567 nhân khẩu đến nơi an toàn."
)
NEWS_SPORT = (
    "Chiều 5/9, đội tuyển Việt Nam có buổi tập đầu tiên chuẩn bị cho trận giao hữu với Thái Lan. Huấn "
    "luyện viên trưởng cho biết. Toàn đội đã sẵn sàng! Trận đấu sẽ diễn ra lúc 19h30 ngày 10/9 trên sân "
    "Mỹ Đình, với sức chứa khoảng 40.000 chỗ ngồi, và ban tổ chức dự kiến bán hết vé trong vòng 2 ngày. "
    "Giá vé dao động từ 200.000 đồng đến 500.000 đồng. Người hâm mộ có thể mua vé trực tuyến qua ứng dụng "
    "của Liên đoàn bóng đá Việt Nam hoặc tại các điểm bán vé chính thức ở Hà Nội, TP.HCM và Đà Nẵng."
)
NEWS = (NEWS_ECONOMY, NEWS_WEATHER, NEWS_SPORT)


@pytest.fixture(scope="session")
def runner() -> VinormRunner:
    return VinormRunner()


@pytest.fixture(scope="session")
def frontend(runner: VinormRunner) -> TextFrontend:
    """The real front-end with the shipped lexicon."""
    return TextFrontend(runner=runner)


@pytest.fixture
def bare_frontend(runner: VinormRunner, tmp_path: Path) -> TextFrontend:
    """The real engine, an empty lexicon and no cache: Vinorm's own behaviour plus our rules."""
    return TextFrontend(tmp_path / "none.tsv", runner=runner, cache_size=0)
