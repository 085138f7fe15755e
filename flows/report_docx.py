"""The rectification report as a DOCX laid out like an official document (GB/T 9704-2012 basics).

A4 with the standard margins, the title in 2号 (22 pt) 小标宋-style, the body in 3号 (16 pt)
仿宋-style with a fixed 28 pt line pitch, headings in 黑体, page numbers in the footer. Fonts fall
back to those Windows and Office carry (宋体, 仿宋, 黑体) when the official ones are missing; the
office edits, prints and stamps the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
FALLBACK = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING_FONT: "黑体"}
SIZE_2HAO, SIZE_3HAO = Pt(22), Pt(16)


def styled_run(p: Paragraph, text: str, font: str, size: Pt) -> None:
    run = p.add_run(text)
    run.font.size = size
    run.font.name = FALLBACK[font]
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()  # East Asian text uses w:eastAsia
    fonts.set(qn("w:eastAsia"), font)


def paragraph(doc: Any, text: str, *, font: str = BODY_FONT, size: Pt = SIZE_3HAO, indent: bool = True,
          align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:  # fmt: skip
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(32)  # two characters of 3号
    if align is not None:
        p.alignment = align
    styled_run(p, text, font, size)
    return p


def _page_numbers(section: Any) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run("— ")
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    p.add_run(" —")


def a4_document(top: int = 37, bottom: int = 35, left: int = 28, right: int = 26) -> Any:
    """An empty A4 document with the given margins in mm (GB/T 9704's by default)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    return doc


def write_docx(context: dict[str, Any], path: Path) -> Path:
    """Write the report of ``context`` (see :func:`flows.reports.report_context`) to ``path``."""
    doc = a4_document()
    _page_numbers(doc.sections[0])
    paragraph(
        doc,
        context["report_title"],
        font=TITLE_FONT,
        size=SIZE_2HAO,
        indent=False,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    paragraph(doc, "", indent=False)
    paragraph(doc, f"{context['issuer']}：", indent=False)
    doc_no = f"（{context['doc_number']}）" if context["doc_number"] else ""
    paragraph(doc, f"我院接到{context['issuer']}《{context['notice_title']}》{doc_no}文件后，立即组织"
               f"{'、'.join(context['departments'])}等相关科室负责人会议，根据文件通报的问题，明确各部门整改任务，"
               "下发整改督办清单，要求各相关职能部门立即制定整改措施，并限期整改，现将整改结果汇报如下：")  # fmt: skip
    for area in context["areas"]:
        _area(doc, area)
    f = context["figures"]
    paragraph(doc, f"{context['summary_numeral']}、整改完成情况", font=HEADING_FONT)
    tail = f"；尚在整改 {f['open']} 项" if f["open"] else ""
    paragraph(doc, f"本次通报共涉及问题 {f['total']} 项：已销号 {f['closed']} 项，其中按期完成 {f['on_time']} 项、"
               f"逾期完成 {f['late']} 项；经批准延期 {f['extended']} 项；经核实撤销 {f['withdrawn']} 项{tail}。")  # fmt: skip
    paragraph(doc, f"{context['next_numeral']}、下一步工作", font=HEADING_FONT)
    paragraph(doc, "我院将以此次整改为契机，对已销号事项适时开展“回头看”，巩固整改成效，防止问题反弹；"
               "对照考评标准建立长效机制，持续提升医院管理水平。")  # fmt: skip
    paragraph(doc, "", indent=False)
    paragraph(doc, context["institution"], indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph(doc, context["today"], indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.save(str(path))
    return path


def _area(doc: Any, area: dict[str, Any]) -> None:
    paragraph(doc, f"{area['numeral']}、{area['category']}存在问题及整改措施", font=HEADING_FONT)
    paragraph(doc, "存在问题：")
    for n, p in enumerate(area["problems"], start=1):
        detail = p["detail"].replace("\n", " ") if p["detail"] else ""
        closed = f"，{p['closed_on']} 销号" if p["closed_on"] else ""
        paragraph(doc, f"{n}.{p['title']}。{detail}（{p['state_label']}{closed}）")
    paragraph(doc, "整改措施：")
    for n, m in enumerate(area["measures"], start=1):
        paragraph(doc, f"{n}.{m}")
    if not area["measures"]:
        paragraph(doc, "（尚未提交整改措施）")
