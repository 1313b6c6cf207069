"""Vietnamese text normalization: our rules around the Vinorm engine.

The pipeline, for one text::

    clean_text        NFC; emoji, control and format characters out; dashes,
                      quotes, ellipses and bullets tidied; a line that does not
                      end in punctuation gets a full stop; whitespace collapsed
    abbreviations     the dot of a title before a name goes (ThS. Lê)
    lexicon           English words, brands, acronyms -> Vietnamese readings
                      (before Vinorm, so it does not spell them out)
    expand_rules      what Vinorm gets wrong or drops: currency symbols before
                      the amount, ranges (80-90%, 1975-1980), negative numbers,
                      month/year (quý 3/2024), "per" slashes (người/km2),
                      day ranges (10-12/3), phone numbers with dots, "5tr",
                      Roman numerals after quý/phần/tập/... (quý IV)
    split_segments    cut after sentence punctuation followed by whitespace;
                      the punctuation is set aside, the bodies go to Vinorm
    Vinorm            one engine call for all bodies (cached per body)
    clean_vinorm      Vinorm's leftovers out: punctuation it spaced out or
                      inserted inside a body (``một tỷ , hai trăm``), symbols;
                      "/" read "trên"; stray digits read one by one
    assemble          bodies + their own punctuation, lower case, NFC

Because the punctuation the writer typed is set aside before Vinorm and put
back after, it survives exactly (``, . ! ? ; :``), while the commas and dots
Vinorm produces *inside* a verbalized number or an abbreviation are removed:
so the only break points the chunker later sees are the writer's own.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from app.services.text.lexicon import Lexicon
from app.services.text.vinorm import VinormRunner

__all__ = [
    "Normalizer",
    "Segment",
    "assemble",
    "basic_normalize",
    "clean_text",
    "clean_vinorm",
    "drop_abbreviation_dots",
    "expand_rules",
    "split_segments",
    "strip_emoji_and_controls",
]

SENTENCE_PUNCT = ".!?"
CLAUSE_PUNCT = ",;:"
KEPT_PUNCT = SENTENCE_PUNCT + CLAUSE_PUNCT

_WS = re.compile(r"\s+")
_HSPACE = re.compile(r"[^\S\n]+")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def basic_normalize(text: str) -> str:
    """What ``skip_normalization`` leaves: NFC, collapsed whitespace, lower case."""
    return _collapse(unicodedata.normalize("NFC", text)).lower()


# --- 1. cleaning ------------------------------------------------------------------

# Pictographs, emoji and their glue (variation selectors, ZWJ, skin tones, tags, keycaps).
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # mahjong .. symbols and pictographs extended-A (incl. flags, skin tones)
    "\U0001fb00-\U0001fbff"
    "\u2600-\u27bf"  # misc symbols, dingbats
    "\u2b00-\u2bff"  # arrows, stars
    "\u2300-\u23ff"  # misc technical (watch, hourglass)
    "\u2190-\u21ff"  # arrows
    "\u25a0-\u25ff"  # geometric shapes
    "\u3030\u303d\u3297\u3299"
    "\ufe00-\ufe0f"  # variation selectors
    "\u200d\u20e3"  # ZWJ, combining keycap
    "\U000e0000-\U000e007f"  # tags
    "]+"
)
_DOUBLE_QUOTES = re.compile('["“”„‟«»‹›「」『』]')
_SINGLE_QUOTES = re.compile("[‘’‚‛′]")
_ELLIPSIS = re.compile(r"…|\.{3,}")
_DIGIT_DASH = re.compile(r"(?<=\d)\s*[–—‒]\s*(?=\d)")
_SPACED_DASH = re.compile(r"(?:(?<=\s)|^)[–—‒―]+(?=\s|$)|[—―]+")
_BULLET = re.compile(r"^\s*(?:[-*•·▪►‣◦+]|\d{1,2}[.)](?=\s))\s+", re.MULTILINE)
_GLUED_PUNCT = re.compile(r"(?<=[^\W\d_])([,;!?:])(?=[^\W\d_])")
_LINE_END_PUNCT = re.compile(r"[.!?;:,][\"')\]}»”’]*\s*$")


def strip_emoji_and_controls(text: str) -> str:
    """Remove emoji and pictographs, control and format characters; keep newlines."""
    text = _EMOJI.sub(" ", text)
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if ch.isspace() or ch == "\u200b":  # tab, CR, no-break, zero-width and other spaces
            out.append(" ")
        elif cat in ("Cc", "Cf", "Co", "Cs", "Cn"):
            continue  # NUL, BEL, joiners, BOM, bidi marks, soft hyphen, private use
        else:
            out.append(ch)
    return "".join(out)


def clean_text(text: str) -> str:
    """The typographic clean-up before the lexicon and Vinorm (see module doc)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = strip_emoji_and_controls(text)
    text = text.replace("−", "-")  # minus sign
    text = _DOUBLE_QUOTES.sub(" ", text)
    text = _SINGLE_QUOTES.sub("'", text)
    text = _ELLIPSIS.sub("...", text)
    text = _DIGIT_DASH.sub("-", text)  # 2000–2010 -> 2000-2010 (a range rule reads it)
    text = _SPACED_DASH.sub(",", text)  # "anh nói — rồi đi" pauses like a comma
    text = re.sub(r"[^\S\n]+(?=[,;!?:])", "", text)  # "nói , rồi" -> "nói, rồi"
    text = _BULLET.sub("", text)
    text = _GLUED_PUNCT.sub(r"\1 ", text)  # "chào,tôi" -> "chào, tôi"
    lines = []
    for line in text.split("\n"):
        line = _collapse(line)
        if not line:
            continue
        if not _LINE_END_PUNCT.search(line):
            line += "."  # a heading or list item is a sentence of its own
        lines.append(line)
    text = " ".join(lines)
    # A comma from a dash next to other punctuation: keep the writer's mark.
    text = re.sub(r"\s*,\s*(?=[.!?;:,])", "", text)
    text = re.sub(r"(?<=[.!?;:])\s*,", "", text)
    return _collapse(re.sub(r"^\s*,\s*", "", text))


# --- 2. rules before Vinorm ----------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)*"
_CURRENCY = {"$": "đô la", "US$": "đô la mỹ", "£": "bảng anh", "¥": "yên", "€": "ơ rô", "₫": "đồng", "₩": "uôn"}
_SCALE = r"(\s?(?:nghìn|ngàn|triệu|tỷ|tỉ|k|tr)\b)?"
_CURRENCY_BEFORE = re.compile(rf"(US\$|[$£¥€₫₩])\s?({_NUM}){_SCALE}")
_CURRENCY_AFTER = re.compile(rf"({_NUM}){_SCALE}\s?(US\$|[$£¥€₫₩])")
_MILLION_TR = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s?tr\b(?!\.\w)")
_PERCENT_RANGE = re.compile(rf"(?<![\d.,/-])({_NUM})\s?-\s?({_NUM})\s?%")
_YEAR_RANGE = re.compile(r"(?<![\d.,/-])([12]\d{3})\s?-\s?([12]\d{3})(?![\d/-]|[.,]\d)")
_SMALL_RANGE = re.compile(r"(?<![\d.,/-])(\d{1,4})\s?-\s?(\d{1,4})(?=\s*°|\s+[^\W\d_])")
_NOT_A_RANGE_BEFORE = re.compile(
    r"(?:ngày|hôm|mùng|mồng|tỷ số|tỉ số|thắng|thua|hòa|hoà|sáng|chiều|tối|đêm|trưa|số|mã|phòng)\s*$",
    re.IGNORECASE,
)
_DAY_RANGE = re.compile(r"(?<![\d.,/-])(\d{1,2})-(\d{1,2})/(\d{1,2})(?![\d])")
_PHONE = re.compile(r"(?<![\w.,+])(?:\+84\s?|0)\d{1,4}(?:[.\s-]\d{2,4}){1,3}(?![\w]|[.,]\d)")
_ROMAN_AFTER = re.compile(
    r"\b(quý|phần|tập|mục|giai đoạn|hạng|cấp|đợt|chặng|vòng)\s+([IVX]{1,6})\b(?![-.]\w)", re.IGNORECASE
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_NEGATIVE = re.compile(r"(?:(?<=^)|(?<=[\s(\[]))-(?=\d)")
_MONTH_YEAR = re.compile(r"(?<![\d/.-])(0?[1-9]|1[0-2])/([12]\d{3})(?![\d/])")
_PERCENT_PER = re.compile(r"%\s?/\s?(?=[^\W\d_])")
_UNITS = {
    "km2": "ki lô mét vuông",
    "m2": "mét vuông",
    "m3": "mét khối",
    "km": "ki lô mét",
    "m": "mét",
    "cm": "xen ti mét",
    "mm": "mi li mét",
    "kg": "ki lô gam",
    "g": "gam",
    "h": "giờ",
    "s": "giây",
    "l": "lít",
    "ml": "mi li lít",
    "ha": "héc ta",
}
_WORD_PER = re.compile(r"(?<![\w/])([^\W\d_]*[^\x00-\x7f][^\W\d_]*)/([^\W_]+)")
_ABBREV_DOT = re.compile(r"\b(PGS|GS|TS|ThS|BS|KS|TP|Tp|Q|P|TX|TT|NXB|Mr|Mrs|Ms|Dr|St)\.(?=\s+(\w))")


def _currency_before(m: re.Match[str]) -> str:
    return f"{m.group(2)}{m.group(3) or ''} {_CURRENCY[m.group(1)]}"


def _currency_after(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2) or ''} {_CURRENCY[m.group(3)]}"


def _small_range(m: re.Match[str]) -> str:
    low, high = int(m.group(1)), int(m.group(2))
    before = m.string[max(0, m.start() - 12) : m.start()]
    if low >= high or _NOT_A_RANGE_BEFORE.search(before):
        return m.group(0)  # a score (2-1), a date (ngày 1-5) or a code
    return f"{m.group(1)} đến {m.group(2)}"


def _day_range(m: re.Match[str]) -> str:
    first, last, month = (int(g) for g in m.groups())
    if not (1 <= first < last <= 31 and 1 <= month <= 12):
        return m.group(0)
    return f"{m.group(1)} đến {m.group(2)}/{m.group(3)}"


def _phone(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if not 9 <= len(digits) <= 12:
        return m.group(0)
    return ("+" if m.group(0).startswith("+") else "") + digits


def roman_to_int(numeral: str) -> int | None:
    """1..39 in canonical Roman numerals (I..XXXIX), else ``None``."""
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN_VALUES[ch]
        total += -value if i + 1 < len(numeral) and _ROMAN_VALUES[numeral[i + 1]] > value else value
    canonical = "X" * (total // 10) + ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"][total % 10]
    return total if 0 < total < 40 and canonical == numeral else None


def _roman_after(m: re.Match[str]) -> str:
    if not m.group(2).isupper():
        return m.group(0)
    value = roman_to_int(m.group(2))
    return m.group(0) if value is None else f"{m.group(1)} {value}"


def _word_per(m: re.Match[str]) -> str:
    right = m.group(2)
    return f"{m.group(1)} trên {_UNITS.get(right, right)}"


def _abbrev_dot(m: re.Match[str]) -> str:
    nxt = m.group(2)
    return m.group(1) if nxt[0].isupper() or nxt[0].isdigit() else m.group(0)


def drop_abbreviation_dots(text: str) -> str:
    """``ThS. Lê``, ``TP. Huế`` -> without the dot (it is not a sentence end); ``ở FPT. Hôm`` stays."""
    return _ABBREV_DOT.sub(_abbrev_dot, text)


def expand_rules(text: str) -> str:
    """Rewrite what Vinorm reads wrongly into forms it reads right (see module doc)."""
    text = _PHONE.sub(_phone, text)  # "024.3826.1234": Vinorm reads a decimal number
    text = _CURRENCY_BEFORE.sub(_currency_before, text)  # "$50" -> "50 đô la" (Vinorm drops the $)
    text = _CURRENCY_AFTER.sub(_currency_after, text)  # "50.000₫" -> "50.000 đồng"
    text = _MILLION_TR.sub(r"\1 triệu", text)  # "5tr" -> "5 triệu" (Vinorm: "năm tê rờ")
    text = _PERCENT_RANGE.sub(r"\1 đến \2%", text)  # "80-90%": Vinorm drops the dash
    text = _YEAR_RANGE.sub(r"\1 đến \2", text)  # "1975-1980"
    text = _DAY_RANGE.sub(_day_range, text)  # "10-12/3": Vinorm needs a "từ" before it
    text = _SMALL_RANGE.sub(_small_range, text)  # "15-20 người"
    text = _ROMAN_AFTER.sub(_roman_after, text)  # "quý I": Vinorm reads a lone "I" as the letter
    text = _NEGATIVE.sub("âm ", text)  # "-5 độ": Vinorm drops the sign
    text = _MONTH_YEAR.sub(r"\1 năm \2", text)  # "quý 3/2024": Vinorm reads "ba / hai nghìn..."
    text = _PERCENT_PER.sub("% trên ", text)  # "6,5%/năm": Vinorm drops "phần trăm"
    text = _WORD_PER.sub(_word_per, text)  # "người/km2": Vinorm mangles "người"
    return text


# --- 3. segments ----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    body: str  # text for Vinorm, without the punctuation that ends it
    punct: str  # the writer's punctuation after it ("" at the very end without any)


_SEGMENT_END = re.compile(r"\s*([.!?;:,]+)[\"')\]}»”’]*(?=\s|$)")


def _tidy_punct(group: str) -> str:
    if set(group) == {"."}:
        return "..." if len(group) >= 2 else "."
    out = []
    for ch in group:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out[:2])


def split_segments(text: str) -> list[Segment]:
    """Cut after punctuation that whitespace (or the end) follows."""
    segments = []
    pos = 0
    for m in _SEGMENT_END.finditer(text):
        segments.append(Segment(text[pos : m.start()].strip(), _tidy_punct(m.group(1))))
        pos = m.end()
    tail = text[pos:].strip()
    if tail:
        segments.append(Segment(tail, ""))
    return segments


# --- 4. after Vinorm ----------------------------------------------------------------------

_DIGIT_NAMES = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_NOT_WORD = re.compile(r"[^\w\s]|_")
_DIGITS = re.compile(r"\d+")


def clean_vinorm(output: str) -> str:
    """A body as Vinorm returned it -> words only.

    Vinorm spaces out punctuation and inserts some inside numbers and codes
    ("một tỷ , hai trăm", "năm . league", "mười hai giờ ba mươi tư : năm mươi
    sáu"): inside a body none of it is the writer's, so all of it goes. A
    slash it left ("một / ba") is read "trên"; digits it left are read one by one.
    """
    text = output.replace("/", " trên ")
    text = _NOT_WORD.sub(" ", text)
    text = _DIGITS.sub(lambda m: " ".join(_DIGIT_NAMES[int(d)] for d in m.group(0)), text)
    return _collapse(text)


def assemble(bodies: Sequence[str], puncts: Sequence[str]) -> str:
    """Bodies with their punctuation attached to the last word; empty bodies pass theirs back."""
    parts: list[str] = []
    for body, punct in zip(bodies, puncts):
        if body:
            parts.append(body + punct)
        elif punct and parts and parts[-1][-1] not in KEPT_PUNCT:
            parts[-1] += punct
    return unicodedata.normalize("NFC", " ".join(parts).lower())


# --- the normalizer ---------------------------------------------------------------------


class Normalizer:
    """Full normalization with a shared Vinorm runner and a cache of Vinorm outputs per body."""

    def __init__(self, runner: VinormRunner | None = None, *, cache_size: int = 8192) -> None:
        self.runner = runner if runner is not None else VinormRunner()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def prepare(self, text: str, lexicon: Lexicon | None) -> list[Segment]:
        """Everything before Vinorm: the segments whose bodies Vinorm will read."""
        text = drop_abbreviation_dots(clean_text(text))
        if lexicon:
            text = _collapse(lexicon.apply(text))
        return split_segments(expand_rules(text))

    def normalize(self, text: str, lexicon: Lexicon | None = None) -> str:
        return self.normalize_many([text], lexicon)[0]

    def normalize_many(self, texts: Sequence[str], lexicon: Lexicon | None = None) -> list[str]:
        """Many texts, one Vinorm call for all the bodies not already cached."""
        prepared = [self.prepare(t, lexicon) for t in texts]
        bodies = {s.body for segs in prepared for s in segs if s.body}
        outputs = self._vinorm(sorted(bodies))
        return [assemble([outputs.get(s.body, "") for s in segs], [s.punct for s in segs]) for segs in prepared]

    def _vinorm(self, bodies: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        missing: list[str] = []
        with self._lock:
            for body in bodies:
                hit = self._cache.get(body)
                if hit is None:
                    missing.append(body)
                else:
                    self._cache.move_to_end(body)
                    found[body] = hit
        if missing:
            fresh = [clean_vinorm(o) for o in self.runner.normalize_many(missing)]
            with self._lock:
                for body, out in zip(missing, fresh):
                    found[body] = out
                    if self._cache_size > 0:
                        self._cache[body] = out
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return found

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
