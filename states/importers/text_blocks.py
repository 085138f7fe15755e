"""Lines, numbering and blocks of a notice text: the pieces :mod:`.text` puts together.

A text is cut into :class:`Segment` s (one line, or a piece of a line where a new numbered point
or a 「整改措施：」 label starts in mid-line), each classified as an :class:`Entry` with its
numbering level. A block of entries (the lines under 「存在问题：」 or 「整改措施：」) then
becomes problem drafts or measure strings. Everything here is pure and total: no input raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADING = 0
"""A （一） heading used as a problem inside an open block: the highest numbering level."""
TOP = 1
"""1. 1、 1． ⒈"""
PAREN = 2
"""(1) （1） ⑴"""
HALF = 3
"""1) 1）"""
CIRCLED = 4
"""① ②"""

_CN_NUM = "一二三四五六七八九十"
# ``\d`` in a str pattern also matches fullwidth digits (１２３), and int() reads them.
_MARKERS: tuple[tuple[int, re.Pattern[str], int], ...] = (
    (TOP, re.compile(r"(\d{1,2})\s*[.．、](?!\d)"), 0),
    (TOP, re.compile(r"([\u2488-\u249b])"), 0x2488),
    (PAREN, re.compile(r"[（(]\s*(\d{1,2})\s*[)）]"), 0),
    (PAREN, re.compile(r"([\u2474-\u2487])"), 0x2474),
    (HALF, re.compile(r"(\d{1,2})\s*[)）]"), 0),
    (CIRCLED, re.compile(r"([\u2460-\u2473])"), 0x2460),
)
_PROBLEM_LABEL = r"(?:存在的?(?:主要|突出)?问题|主要问题|发现的?问题|问题(?:清单)?)(?:主要)?(?:如下|有|是)?"
_MEASURE_LABEL = (
    r"(?:整改措施(?:及(?:成效|结果|落实情况))?|整改(?:落实)?情况|整改结果|整改成效|采取的?措施|改进措施)"
    r"(?:如下|有|是)?"
)
_LABEL = re.compile(rf"(?:(?P<p>{_PROBLEM_LABEL})|(?P<m>{_MEASURE_LABEL}))\s*(?:[：:]\s*(?P<rest>.*))?", re.S)
_MARK_AHEAD = r"(?:\d{1,2}\s*[.．、](?!\d)|[（(]\s*\d{1,2}\s*[)）]|[\u2460-\u249b])"
_LABEL_AHEAD = rf"(?:{_PROBLEM_LABEL}|{_MEASURE_LABEL})\s*[：:]"
# Where a new piece starts inside a line: after two or more spaces, after a sentence's end, after a
# colon (numbered points only), and before 篇二： (a compiled file of several reports).
_SPLIT = re.compile(
    rf"[ \t\u3000]{{2,}}(?={_MARK_AHEAD}|{_LABEL_AHEAD}|[{_CN_NUM}]{{1,3}}[、是])"
    rf"|(?<=[。；;！!？?])\s*(?={_MARK_AHEAD}|{_LABEL_AHEAD})"
    rf"|(?<=[：:])\s*(?={_MARK_AHEAD})"
    rf"|(?=篇[{_CN_NUM}]{{1,3}}[：:])"
)
_SENTENCE_END = re.compile(r"[。；;！!？?]")
_CLAUSE = re.compile(r"[，,。；;！!？?]")
_LEADING_PUNCT = "。；;！!？?，,、.．：: \t\u3000"
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


@dataclass(frozen=True, slots=True)
class Segment:
    """A line of the text, or the piece of a line where a new point starts."""

    row: int
    """The line number, counted from ``first_line``."""
    text: str
    """Stripped, never empty."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A segment inside a block, with its numbering read."""

    row: int
    level: int | None
    """:data:`TOP`, :data:`PAREN` …; ``None`` for an unnumbered line."""
    number: int | None
    text: str
    """Without the numbering."""
    raw: str
    """As written, numbering included (kept that way in a problem's detail)."""


@dataclass(slots=True)
class Draft:
    """A problem being collected: its own line and the lines kept under it."""

    row: int
    text: str
    extra: list[str] = field(default_factory=list)


def segments(text: str, first_line: int = 1) -> list[Segment]:
    """Cut a text into segments with their line numbers.

    Args:
        text: The whole text; ``\\r\\n``, ``\\r`` and ``\\n`` all end a line.
        first_line: The number of the text's first line.

    Returns:
        The non-empty segments, in order.
    """
    lines = text.translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Segment] = []
    for i, line in enumerate(lines):
        for piece in _SPLIT.split(line):
            if piece.strip():
                out.append(Segment(first_line + i, piece.strip()))
    return out


def classify(seg: Segment) -> Entry:
    """Read a segment's numbering (1. 1、 (1) （1） 1） ① …), if it has one."""
    for level, pattern, base in _MARKERS:
        m = pattern.match(seg.text)
        if m:
            number = ord(m.group(1)) - base + 1 if base else int(m.group(1))
            return Entry(seg.row, level, number, seg.text[m.end() :].strip(), seg.text)
    return Entry(seg.row, None, None, seg.text, seg.text)


def label_of(text: str) -> tuple[str, str] | None:
    """Recognise a block label such as 「存在问题：」 or 「整改措施：…」.

    Returns:
        ``("problems" | "measures", text after the colon)``, or ``None`` when the line is no label.
    """
    m = _LABEL.fullmatch(text.strip())
    if not m:
        return None
    return ("problems" if m.group("p") else "measures"), (m.group("rest") or "").strip()


def intro_kind(text: str) -> str | None:
    """The block an unnumbered line ending with a colon introduces, from its last clause.

    「当前，我们亟需解决的困难和问题主要是：」 introduces problems, 「采取了以下整改措施：」 measures;
    「现将整改结果汇报如下：」 nothing.
    """
    if not text.endswith(("：", ":")):
        return None
    clause = _CLAUSE.split(text.rstrip("：:"))[-1]
    if "措施" in clause:
        return "measures"
    return "problems" if "问题" in clause else None


def split_title(text: str) -> tuple[str, str]:
    """Split a problem's text into its first sentence (the title) and the rest.

    The sentence ends at the first 。 ； ！ or ？, which is dropped.
    """
    text = text.strip().lstrip(_LEADING_PUNCT)
    m = _SENTENCE_END.search(text)
    if not m:
        return text, ""
    return text[: m.start()].strip(), text[m.end() :].strip()


def draft_fields(draft: Draft) -> tuple[str, str | None]:
    """The title and the detail (rest of the sentence, then the lines under it) of a draft."""
    parts = [draft.text, *draft.extra]
    title, rest = "", ""
    while parts and not title:
        title, rest = split_title(parts.pop(0))
    detail = "\n".join(p for p in (rest, *parts) if p.strip())
    return title, detail or None


def _top_numbers(entries: list[Entry], top: int) -> tuple[list[int | None], list[int | None]]:
    """For each entry, the number of the nearest top-level entry before and after it."""
    before: list[int | None] = []
    last: int | None = None
    for e in entries:
        before.append(last)
        last = e.number if e.level == top else last
    after: list[int | None] = []
    last = None
    for e in reversed(entries):
        after.append(last)
        last = e.number if e.level == top else last
    return before, after[::-1]


def _stands_alone(seen_top: bool, prev: int | None, nxt: int | None) -> bool:
    """Whether an unnumbered line among numbered problems is a problem of its own.

    It is before the first numbered problem, or where the numbering skips (财务: two unnumbered
    problems, then 「3.价格管理不规范。」); otherwise it continues the problem above it.
    """
    if not seen_top:
        return True
    return prev is not None and nxt is not None and nxt > prev + 1


def problems_of(entries: list[Entry], *, lead_text: bool = True) -> list[Draft]:
    """Turn a block's entries into problem drafts.

    The highest numbering level present makes the problems; lower levels ((1) under 1.) and
    continuation lines go into the detail of the problem above. A block without numbering is one
    problem. Lines ending with a colon (「主要存在以下问题：」) are dropped.

    Args:
        entries: The block's entries, in order.
        lead_text: Whether unnumbered lines before the first numbered one are problems too
            (``False`` for the body of a heading that merely says 存在问题).
    """
    entries = [e for e in entries if e.level is not None or intro_kind(e.text) is None]
    levels = [e.level for e in entries if e.level is not None]
    if not levels:
        return [Draft(entries[0].row, entries[0].text, [e.raw for e in entries[1:]])] if entries else []
    top = min(levels)
    before, after = _top_numbers(entries, top)
    drafts: list[Draft] = []
    seen_top = False
    for i, e in enumerate(entries):
        if e.level == top or (e.level is None and _stands_alone(seen_top, before[i], after[i])):
            if e.level == top or lead_text or seen_top:
                drafts.append(Draft(e.row, e.text))
            seen_top = seen_top or e.level == top
        elif drafts:
            drafts[-1].extra.append(e.raw)
        elif e.level is not None:
            drafts.append(Draft(e.row, e.text))
    return drafts


def measures_of(entries: list[Entry]) -> list[str]:
    """Turn the entries of an 整改措施 block into measure strings, numbering stripped.

    A numbered measure written as a short title without a full stop (「1、完善单位内部管理制度」)
    keeps the lines under it (「一是…」); after a full sentence, an unnumbered line is a measure
    of its own, as is every line of an unnumbered block. Lower numbering levels stay with their
    measure.
    """
    entries = [e for e in entries if e.level is not None or intro_kind(e.text) is None]
    levels = [e.level for e in entries if e.level is not None]
    top = min(levels) if levels else None
    out: list[list[str]] = []
    glue = False
    for e in entries:
        if top is not None and e.level == top:
            out.append([e.text])
            glue = not _SENTENCE_END.search(e.text[-1:])
        elif out and (e.level is not None or glue):
            out[-1].append(e.raw)
        else:
            out.append([e.text])
    return [m for m in ("\n".join(p for p in parts if p) for parts in out) if m]
