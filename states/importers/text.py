"""Notice texts (通报 / 整改报告) read into items: one item per problem, grouped by area.

The shape is the one hospitals write (seed 000)::

    一、医疗方面存在问题及整改措施        ← an area: category 「医疗方面」
    存在问题：
    1.临床核心制度管理落实不到位。        ← a problem (title = first sentence)
    (1)存在丙级病历现象。…               ← kept in the problem's detail
    整改措施：
    1.加强对医务人员病历书写的监管…      ← a proposed measure of the area
    六、下一步改进计划                    ← not problems: ignored, with a note

The parser is pure (text in, :class:`~.model.ParsedImport` out) and total: it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .model import ImportedItem, ParsedImport, Problem
from .text_blocks import (
    HEADING,
    Draft,
    Entry,
    Segment,
    classify,
    draft_fields,
    intro_kind,
    label_of,
    measures_of,
    problems_of,
    segments,
)

DEFAULT_CATEGORY = "未分类"
"""Category of problems written under no named area (the core requires one)."""
NO_PROBLEM = "未找到任何问题条目：请检查是否包含「一、…存在问题」及编号的问题"
HEADER_LINES = 10
"""How many opening lines are searched for the issuer and the document number."""

_H1 = re.compile(r"([一二三四五六七八九十]{1,3})\s*[、.．]\s*(.*)", re.S)
_H2 = re.compile(r"[（(]\s*([一二三四五六七八九十]{1,3})\s*[)）]\s*(.*)", re.S)
_DOC_BREAK = re.compile(r"(?:第[一二三四五六七八九十]{1,3}篇|篇[一二三四五六七八九十]{1,3})(?:[：:]|$)")
_HEADING_CUT = re.compile(r"[。；;！!？?：:]|[ \t\u3000]{2,}")
_IGNORED = re.compile(
    r"下一步|改进计划|工作计划|工作思路|今后|总体要求|指导思想|工作目标|组织领导|工作要求|时间要求"
    r"|考核办法|保障措施|整改要求|整改目标|基本情况|附件"
)
_CATEGORY_SUFFIX = re.compile(
    r"(?:存在的?(?:主要|突出)?问题|的?(?:主要)?问题)?(?:及|和|与|以及)?(?:其?整改(?:措施|情况|落实情况|结果)?)?(?:如下)?$"
)
_DOC_NO = re.compile(
    r"[\u4e00-\u9fffA-Za-z×＊*]{1,15}\s*[〔\[［【(（„]\s*[0-9０-９xX×]{2,4}\s*[〕\]］】)）‟]\s*第?\s*[0-9０-９xX×]{1,5}\s*号"
)
_DOC_NO_LEAD = re.compile(r"^(?:根据|按照|依据|依照|接到|收到|对照|落实|贯彻|执行|转发|印发)+")
_ORG_END = r"(?:委员会|委|局|厅|办公室|办|院|中心|处|科|部|组|政府|公司|所|站|会)"
_ADDRESSEE = re.compile(rf"(?:致|尊敬的)?([\u4e00-\u9fffA-Za-z×＊*（）()]{{2,28}}{_ORG_END})\s*[：:]")
_SOURCE_ORG = re.compile(
    rf"(?:接到|收到|根据|按照|依据|依照)([\u4e00-\u9fffA-Za-z×]{{1,20}}?{_ORG_END})(?:印发|下发|发布|制定)?的?《"
)


@dataclass(slots=True)
class _Block:
    """The lines under one label: ``problems``, ``implicit`` (a heading saying 存在问题: only
    numbered lines count), ``heading`` (a heading that is itself a problem), ``measures`` or
    ``none``."""

    kind: str
    entries: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class _Area:
    """A section of the text: the preamble, an 一、 heading or a （一） heading."""

    heading: str | None
    row: int | None
    level: int
    category: str | None
    """``None`` for no named area (:data:`DEFAULT_CATEGORY`)."""
    ignored: bool = False
    blocks: list[_Block] = field(default_factory=list)
    fallback: Entry | None = None
    """A bare （一） heading under 存在问题, taken as the problem when nothing is written under it."""
    fallback_category: str | None = None
    """The category of that problem (the parent's)."""

    @property
    def kind(self) -> str:
        return self.blocks[-1].kind if self.blocks else "none"


def parse_notice_text(text: str, *, first_line: int = 1) -> ParsedImport:
    """Read a notice or rectification report into items.

    Args:
        text: The whole text, as pasted or read from a file.
        first_line: The number given to the text's first line (items' ``row`` counts from it).

    Returns:
        The items (one per problem, with the area's 整改措施 as proposed measures), the issuer and
        document number when the opening lines carry them, notes for the preview, and one
        :class:`~.model.Problem` when no problem at all was found. Never raises.
    """
    result = ParsedImport()
    _read_header(text, result)
    areas = _Sectioner().run(segments(text, first_line))
    _assemble(areas, result)
    if not result.items:
        result.problems.append(Problem(row=None, column=None, message=NO_PROBLEM))
    return result


class _Sectioner:
    """Walks the segments once, opening areas at headings and blocks at labels."""

    def __init__(self) -> None:
        self.areas: list[_Area] = []
        self.parent: _Area | None = None
        self.current = self._open(_Area(None, None, 0, None, blocks=[_Block("none")]))

    def run(self, segs: list[Segment]) -> list[_Area]:
        for seg in segs:
            pending: Segment | None = seg
            while pending is not None:  # a loop, not recursion: 「一、甲。二、乙。…」 may go on for long
                pending = self._feed(pending)
        return self.areas

    def _open(self, area: _Area) -> _Area:
        self.areas.append(area)
        self.current = area
        if area.level <= 1:
            self.parent = area if area.level == 1 else None
        return area

    def _feed(self, seg: Segment) -> Segment | None:
        """Take one segment; returns what is left of it to take next (the text after a heading)."""
        if _DOC_BREAK.match(seg.text):
            self._open(_Area(None, None, 0, None, blocks=[_Block("none")]))
            return None
        for level, pattern in ((1, _H1), (2, _H2)):
            m = pattern.match(seg.text)
            if m:
                return self._heading(level, m.group(2), seg)
        if not self.current.ignored:
            self._line(seg)
        return None

    def _line(self, seg: Segment) -> None:
        text = seg.text
        while (label := label_of(text)) is not None:
            self._switch(label[0])
            text = label[1]
            if not text:
                return
        entry = classify(Segment(seg.row, text))
        intro = intro_kind(text) if entry.level is None else None
        if intro and not (intro == "problems" and self.current.kind == "measures"):
            self._switch(intro)
        else:
            self.current.blocks[-1].entries.append(entry)

    def _switch(self, kind: str) -> None:
        self.current.blocks.append(_Block(kind))

    def _heading(self, level: int, written: str, seg: Segment) -> Segment | None:
        title, rest, sentence = _split_heading(written)
        seg = Segment(seg.row, seg.text[: len(seg.text) - len(written)] + title)
        if level == 2 and sentence and self.current.kind != "none" and not self.current.ignored:
            self.current.blocks[-1].entries.append(Entry(seg.row, HEADING, None, title, seg.text))
        elif not self._label_heading(level, title, seg):
            self._area_heading(level, title, sentence, seg)
        return Segment(seg.row, rest) if rest else None

    def _label_heading(self, level: int, title: str, seg: Segment) -> bool:
        """Handle a heading that is only a label (二、整改措施 / （一）存在问题); False if it is not."""
        label = label_of(title)
        if label is None or label[1]:
            return False
        switch_here = not self.current.ignored and (level == 2 or self.current.level <= 1)
        if switch_here and (label[0] == "measures" or level == 2):
            self._switch(label[0])
        else:
            self._open(_Area(seg.text, seg.row, level, None, blocks=[_Block(label[0])]))
        return True

    def _area_heading(self, level: int, title: str, sentence: bool, seg: Segment) -> None:
        parent = self.parent if level == 2 else None
        area = _Area(seg.text, seg.row, level, parent.category if parent else None)
        area.ignored = bool(_IGNORED.search(title)) and "存在问题" not in title and "存在的问题" not in title
        area.ignored = area.ignored or (parent is not None and parent.ignored)
        inherited = parent.kind if parent and parent.kind != "heading" else "none"
        if sentence:
            area.blocks.append(_Block("heading", [Entry(seg.row, HEADING, None, title, seg.text)]))
        else:
            area.category = _category(title) or area.category
            area.blocks.append(_Block("implicit" if "问题" in title else inherited))
            if inherited == "problems" and "问题" not in title:
                area.fallback = Entry(seg.row, HEADING, None, title, seg.text)
                area.fallback_category = parent.category if parent else None
        self._open(area)


def _split_heading(written: str) -> tuple[str, str, bool]:
    """Split a heading line into its title, the text after it, and whether the title is a sentence.

    The title ends at the first 。 ； ！ ？ (a sentence: the heading is itself a problem, as in
    「一、考勤管理不够规范。」), colon or run of spaces; a comma in it also makes it a sentence.
    """
    m = _HEADING_CUT.search(written)
    if not m:
        return written.strip(), "", "，" in written
    title, rest = written[: m.start()].strip(), written[m.end() :].strip()
    return title, rest, m.group() in "。；;！!？?" or "，" in title


def _category(title: str) -> str | None:
    """「医疗方面存在问题及整改措施」 → 「医疗方面」; ``None`` when nothing is left."""
    name = _CATEGORY_SUFFIX.sub("", title.strip(" \t\u3000：:。")).strip()
    name = re.sub(r"^关于", "", name)
    name = re.sub(r"的$", "", name).strip()
    return name[:200] or None


def _area_problems(area: _Area) -> list[Draft]:
    has_measures = any(b.kind == "measures" and b.entries for b in area.blocks)
    drafts: list[Draft] = []
    for block in area.blocks:
        numbered = any(e.level is not None for e in block.entries)
        if block.kind == "problems" or block.kind == "heading" and has_measures:
            drafts += problems_of(block.entries)
        elif block.kind == "implicit" and numbered:
            drafts += problems_of(block.entries, lead_text=False)
    if _falls_back(area) and area.fallback:
        drafts.append(Draft(area.fallback.row, area.fallback.text))
    return drafts


def _falls_back(area: _Area) -> bool:
    return area.fallback is not None and not any(b.entries for b in area.blocks)


def _area_measures(area: _Area) -> list[str]:
    return [m for b in area.blocks if b.kind == "measures" for m in measures_of(b.entries)]


def _assemble(areas: list[_Area], result: ParsedImport) -> None:
    """Make the items.

    A named category's measures are pooled over all its areas (「二、整改措施」 with 「（一）医疗方面」
    again under it); measures under no named area, in an area without problems, go to the
    problems above them that are under no named area and have no measures yet.
    """
    pooled: dict[str, list[str]] = {}
    for area in areas:
        if area.category and not area.ignored:
            pooled.setdefault(area.category, []).extend(_area_measures(area))
    used: set[str] = set()
    waiting: list[int] = []
    for area in areas:
        drafts = [] if area.ignored else _area_problems(area)
        category = (area.fallback_category if _falls_back(area) else area.category) or DEFAULT_CATEGORY
        measures = tuple(pooled.get(area.category, ()) if area.category else _area_measures(area))
        if not drafts and not area.category and measures:
            _hand_down(result, waiting, measures, used)
        for draft in drafts:
            _add_item(result, draft, category, measures)
            if category == DEFAULT_CATEGORY and not measures:
                waiting.append(len(result.items) - 1)
        used.update([category] if drafts else [])
    _notes(areas, used, result)


def _hand_down(result: ParsedImport, waiting: list[int], measures: tuple[str, ...], used: set[str]) -> None:
    for i in waiting:
        result.items[i] = replace(result.items[i], proposed_measures=measures)
    if waiting:
        used.add(DEFAULT_CATEGORY)
    waiting.clear()


def _add_item(result: ParsedImport, draft: Draft, category: str, measures: tuple[str, ...]) -> None:
    title, detail = draft_fields(draft)
    if not title:
        result.notes.append(f"第 {draft.row} 行的编号问题没有内容，已跳过")
        return
    result.items.append(
        ImportedItem(row=draft.row, category=category, title=title, detail=detail, proposed_measures=measures)
    )


def _notes(areas: list[_Area], used: set[str], result: ParsedImport) -> None:
    for area in areas:
        unused = (area.category or DEFAULT_CATEGORY) not in used and any(b.entries for b in area.blocks)
        if area.heading is not None and (area.ignored or unused):
            result.notes.append(f"忽略章节：{area.heading}（第 {area.row} 行）")
    if DEFAULT_CATEGORY in used:
        result.notes.append(f"未标明方面的问题归入「{DEFAULT_CATEGORY}」")


def _read_header(text: str, result: ParsedImport) -> None:
    """Pick the document number and the issuer out of the opening lines."""
    head = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()][:HEADER_LINES]
    for line in head:
        m = _DOC_NO.search(line)
        if m:
            result.doc_number = _DOC_NO_LEAD.sub("", m.group()).strip()
            result.notes.append(f"识别文号：{result.doc_number}")
            break
    result.issuer = _addressee(head) or _source_org(head)
    if result.issuer:
        result.notes.append(f"识别发文单位：{result.issuer}")


def _addressee(head: list[str]) -> str | None:
    """The addressee line of a report (「xx县卫生健康委员会：」) names the issuer of the notice."""
    for line in head:
        m = _ADDRESSEE.fullmatch(line)
        if m and label_of(line) is None:
            return m.group(1)
    return None


def _source_org(head: list[str]) -> str | None:
    """「接到县卫健委《关于…的通报》」 → 「县卫健委」."""
    for line in head:
        m = _SOURCE_ORG.search(line)
        if m:
            return m.group(1)
    return None
