"""The notice-text parser: the first report of seed 000, numbering variants, other report shapes,
and properties (never raises, never loses a numbered problem)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.importers.model import ParsedImport, Problem
from states.importers.text import DEFAULT_CATEGORY, NO_PROBLEM, parse_notice_text

# Lines 2-58 of seed 000 (20xx年度县级公立医院综合绩效考评情况整改报告), as the hospital wrote them.
FIRST_REPORT = """\
20xx年度县级公立医院综合绩效考评情况整改报告
xx县卫生健康委员会：
我院接到县卫健委《关于20xx年县级公立医院综合绩效考评情况的通报》(x卫健医[20x]x号)文件后，绩效考核办公室立即组织召开医务科、感染管理科、药剂科、财务科、医患关系科等相关科室负责人会议，根据文件通报我院综合绩效考评工作中存在的问题，明确各部门整改任务，下发整改督办清单，要求各相关职能部门立即制定整改措施，并限期整改，现将整改结果汇报如下：
一、医疗方面存在问题及整改措施
存在问题：
1.临床核心制度管理落实不到位。
(1)存在丙级病历现象。随机抽取10份病例，1份丙级病历。
(2)违背疑难病例讨论制度。无疑难病例讨论记录或未规范完成疑难危重病历讨论记录现象。
2.临床输血管理不规范。个别非紧急输血申请单中，传染八项情况未填写或填写不规范。
整改措施：
1.加强对医务人员病历书写的监管，继续对病历书写质量进行抽查，发现降级病历对照绩效考核进行落实，发现丙级病历处罚到个人，并责令立即整改。
2.对于疑难危重病历讨论记录书写不规范现象，计划再次对医疗核心制度内容进行全员培训，并将疑难病例讨论制度作为专项督查内容集中进行整改。
3.对个别非紧急输血申请单中，免疫八项填写不规范现象，医务科联系输血科每月例行通报，并与绩效考核挂钩。
二、药事管理方面存在问题及整改措施
存在问题：
1.未严格执行临床合理用药管理。存在不合理用药现象。
2.药品采购管理不规范。国家基本药物采购金额占总采购金额的比例未达到50%基准值。检验试剂和医用高值耗材备案率不得超过10%未达到要求。
整改措施：
1.加强临床医师对《处方管理办法》的培训学习，提高临床医生合理用药水平，督促临床医生严格按照临床诊疗规范及说明书用药。
2.定期开展各项处方点评工作(门急诊处方点评、住院病历点评及专项点评)，加强监督与管理，做好跟踪反馈工作。
3.加强宣传培训，定期开展合理用药专题讲座，提升临床合理用药水平。
根据xx省药品采购平台公布要求，县级公立医院国家基本药品药采购金额占总采购金额比例≥30%，我院国家基本药品药采购金额占总采购金额比例xx%，符合规定。
三、医院感染管理方面存在问题及整改措施
存在问题：
医院感染防控存在安全隐患。普通临床科室医护人员手卫生依从性有待提高，需加强院感培训。
整改措施：
1.改进手卫生监督模式，启用病人及家属监督医务人员手卫生宣传标语，提醒医务人员执行手卫生。
2.与相关部门协调，为临床和医技科室提供更完善的手卫生设施和用品，方便医务人员执行手卫生。
3.组织院内手卫生和其他院感知识培训，感染管理科与临床和医技科室共同督查，提高医务人员手卫生意识。
四、医疗纠纷方面存在问题及整改措施
存在问题：
医疗纠纷处理不规范。医疗纠纷处理资料存在不规范现象。未购买医疗责任保险。
整改措施：
1.医患关系科统一负责医院有关医疗质量和安全的投诉接待工作，施行“首诉负责制”在医疗纠纷、事故处理小组指导下，全程组织、参与医疗纠纷的处理工作，建立健全医疗纠纷预警机制、医患协商沟通机制，提升服务质量和规范医疗纠纷处置程序。
2.及时调查、核实投诉事项，按要求组织被投诉科室人员参与投诉接待工作，根据核查情况提出处理意见，并结合投诉内容分析总结个人存在的问题;以及科室组织讨论制定必要的医疗纠纷预防措施。
3.情况较复杂，需调查、核实的，一般应当于接到投诉之日起5个工作日内向患者反馈相关处理情况或者处理意见;涉及多个科室，需组织、协调相关部门共同研究的，应当于接到投诉之日起10个工作日内向患者反馈处理情况或者处理意见。
4.定期汇总、分析医疗服务信息，提出进一步加强与改进工作的整改措施。
5.对投诉已经处理完毕，患者对处理意见有争议并能够提供新情况和证据材料的，按照投诉流程重新予以处理;投诉内容涉及医疗纠纷的，各科室、部门应当告知患者按照医疗纠纷处理的相关法律法规的规定，积极协商;不能协商解决的，引导患者通过调解、诉讼等途径解决，并做好解释疏导工作。
6.购买医疗责任保险本科室还需制定可靠、可行、翔实、适用的实施方案;争取全院领导、职工、患者(家属)的意见建议;进行必要的询问、调查、搜集信息并汇总上报上级领导。
7.汇报院领导建议医务人员参加医疗责任保险;积极引导患者(家属)购买医疗意外保险。
五、财务管理方面存在问题及整改措施
存在问题：
医务人员支出占业务支出比重较低。医务人员支出占业务支出占比为34.86%，小于40%目标值。
次均住院费用增长幅度大。次均住院费用增幅为15.37%。
3.价格管理不规范。存在分解项目收费现象。
整改措施：
1.加强医院管理，完善分配制度，发挥激励机制作用，充分调动全体职工的积极性，增强服务意识和成本意识。采取优劳优得，效率优先，向临床一线岗位、关键岗位、风险岗位倾斜原则，逐步提升医务人员工资待遇，提高职工满意度。
2.根据现行医保支付方式及相关制度，探索按病种、病组收费，结合临床路径，单病种措施控制住院次均费用增长幅度。
3.物价科全面排查收费项目价格，严格执行省、市、县物价政策，财务科，经管办、物价科、医保办联合督察，现已整改到位，无分解收费现象。
六、下一步改进计划
1.开展县级公立医院综合绩效考评工作是落实新时代医改任务的重要手段，我院会严抓党风廉政建设工作，加强“严规矩、强监督、转作风”集中整治形式主义、官僚主义，针对存在问题，查找分析原因，落实整改措施，创新工作方法，丰富工作内容。
我院将组织全院职工认真学习这次综合绩效考评工作反馈的相关内容，“不为不好找理由，要为更好想办法”，努力让医院质量再上新台阶，强力打造“技术有品牌、制度有文化、服务有温度”的三级甲等综合医院。
3.推进全面质量管理，强化体系建设、评估奖惩、培训教育、技术管理和检查督导，严格围绕医疗服务与管理、医疗质量与安全、技术水平与效率等评审标准，优化完善诊疗技术规范、操作规程和医疗质量标准。
4.强化绩效考核工作，构建结构合理、运转高效和监管有力的质量监管体系，使医院管理工作达到制度化、标准化、规范化，努力提高工作质量及效率，并通过全面质量管理，提升医院核心竞争力，使我院管理工作逐步提高，巩固三级甲等综合医院创建成果，提升三甲医院内涵。
5.全面贯彻党的十九大和全国卫生与健康大会精神，坚持以人民为中心的发展思想，围绕医疗服务能力建设、现代医院管理制度、智慧医疗运行模式、病历质量评定标准等，运用7S管理理念和JCI医院评审体系，深化开展管理能力提升计划、评审条款升级计划、服务效能改善计划、技术创新落地计划等，持续提升医院质量。
6.严格按照《三级综合医院医疗服务能力指南》，围绕临床专科医疗服务能力、医技科室医疗服务能力，实施技术创新落地计划，深化开展“六个一”活动，提供新技术、新项目开展宽松环境和充分条件，落实准入评估、跟踪管理和督查考核，从严管控不良事件，持续提升技术质量。
7.深化贯彻《医疗质量管理办法》《医疗质量安全核心制度要点》，严格遵照核心制度实施的基本原则和关键环节，强化十八项核心制度培训、教育、考核，持续细化临床用血、不良事件报告工作流程，不断加强依法执业、临床路径、处方点评、抗菌药物应用管理，保障核心制度真正融入诊疗活动全过程。我院将遵循医疗卫生事业发展规律，深化医药卫生体制改革目标要求，紧紧围绕三级甲等综合医院创建标准，坚持以病人为中心，以解决人民群众看病就医中的突出问题为切入点，通过创新思路方法举措，推进基础设施、人才培养、学科建设等一系列基础性、长远性工作，着力改善医疗服务环境、优化医疗服务流程、保障医疗质量安全，满足人民群众就医过程中对医疗服务的合理诉求，为人民群众提供更加安全、有效、方便、价廉的医疗卫生服务。
"""


def _by_category(parsed: ParsedImport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in parsed.items:
        out.setdefault(item.category, []).append(item.title)
    return out


@pytest.fixture(scope="module")
def first() -> ParsedImport:
    return parse_notice_text(FIRST_REPORT, first_line=2)


def test_first_report_problems_per_area(first: ParsedImport) -> None:
    assert _by_category(first) == {
        "医疗方面": ["临床核心制度管理落实不到位", "临床输血管理不规范"],
        "药事管理方面": ["未严格执行临床合理用药管理", "药品采购管理不规范"],
        "医院感染管理方面": ["医院感染防控存在安全隐患"],
        "医疗纠纷方面": ["医疗纠纷处理不规范"],
        "财务管理方面": ["医务人员支出占业务支出比重较低", "次均住院费用增长幅度大", "价格管理不规范"],
    }
    assert first.problems == []


def test_first_report_rows_are_seed_line_numbers(first: ParsedImport) -> None:
    assert [item.row for item in first.items] == [7, 10, 17, 18, 26, 33, 44, 45, 46]


def test_first_report_details(first: ParsedImport) -> None:
    details = [item.detail for item in first.items]
    assert details[0] == (
        "(1)存在丙级病历现象。随机抽取10份病例，1份丙级病历。\n"
        "(2)违背疑难病例讨论制度。无疑难病例讨论记录或未规范完成疑难危重病历讨论记录现象。"
    )
    assert details[1] == "个别非紧急输血申请单中，传染八项情况未填写或填写不规范。"
    assert details[4] == "普通临床科室医护人员手卫生依从性有待提高，需加强院感培训。"
    assert details[8] == "存在分解项目收费现象。"


def test_first_report_measures_per_area(first: ParsedImport) -> None:
    counts = {item.category: len(item.proposed_measures) for item in first.items}
    assert counts == {
        "医疗方面": 3,
        "药事管理方面": 4,
        "医院感染管理方面": 3,
        "医疗纠纷方面": 7,
        "财务管理方面": 3,
    }
    medical = first.items[0].proposed_measures
    assert medical[0].startswith("加强对医务人员病历书写的监管")
    assert first.items[1].proposed_measures == medical
    # the unnumbered paragraph after measure 3 is a measure of its own (it follows a full sentence)
    assert first.items[2].proposed_measures[3].startswith("根据xx省药品采购平台公布要求")


def test_first_report_header_and_notes(first: ParsedImport) -> None:
    assert first.issuer == "xx县卫生健康委员会"
    assert first.doc_number == "x卫健医[20x]x号"
    assert "识别文号：x卫健医[20x]x号" in first.notes
    assert "忽略章节：六、下一步改进计划（第 51 行）" in first.notes
    assert not any("下一步" in item.category or "开展县级公立医院" in item.title for item in first.items)


def test_crlf_gives_the_same_items() -> None:
    assert parse_notice_text(FIRST_REPORT.replace("\n", "\r\n"), first_line=2) == parse_notice_text(
        FIRST_REPORT, first_line=2
    )


def _titles(text: str) -> list[str]:
    return [item.title for item in parse_notice_text(text).items]


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        (
            "一、医疗方面存在问题\n存在问题：\n1、病历不规范。有丙级病历。\n2、输血不规范。",
            ["病历不规范", "输血不规范"],
        ),
        (
            "一、医疗方面存在问题\n存在问题：\n１．病历不规范。\n２．输血不规范。",
            ["病历不规范", "输血不规范"],
        ),
        ("一、医疗方面\n存在问题：\n（1）病历不规范。\n（2）输血不规范。", ["病历不规范", "输血不规范"]),
        ("一、医疗方面\n存在问题：\n①病历不规范；抽查。\n②输血不规范", ["病历不规范", "输血不规范"]),
        ("一、医疗方面存在问题及整改措施\n1.病历不规范。\n2.输血不规范。", ["病历不规范", "输血不规范"]),
        ("　　一、医疗方面\n　　存在问题：1.病历不规范。2.输血不规范。", ["病历不规范", "输血不规范"]),
    ],
    ids=["1、", "fullwidth 1．", "（1） only", "① only", "heading says 存在问题", "inline and indented"],
)
def test_numbering_variants(text: str, titles: list[str]) -> None:
    assert _titles(text) == titles


@pytest.mark.parametrize("marks", [("1、", "（1）", "（2）"), ("1.", "①", "②"), ("1．", "(1)", "(2)")])
def test_sub_points_stay_in_the_detail(marks: tuple[str, str, str]) -> None:
    top, a, b = marks
    parsed = parse_notice_text(f"一、护理方面\n存在问题：\n{top}交接班不规范。\n{a}无记录。\n{b}未签名。\n")
    assert [(i.title, i.detail) for i in parsed.items] == [("交接班不规范", f"{a}无记录。\n{b}未签名。")]


def test_unnumbered_single_problem() -> None:
    parsed = parse_notice_text(
        "三、院感方面存在问题及整改措施\n存在问题：\n手卫生依从性低。需加强培训。\n另有记录缺失。\n"
    )
    assert [(i.category, i.title, i.detail) for i in parsed.items] == [
        ("院感方面", "手卫生依从性低", "需加强培训。\n另有记录缺失。")
    ]


def test_measures_belong_to_their_area() -> None:
    parsed = parse_notice_text(
        "一、医疗方面\n存在问题：\n1.甲问题。\n整改措施：\n1.措施一。\n2.措施二。\n"
        "二、药事方面\n存在问题：\n乙问题。\n整改措施：\n丙措施。\n"
    )
    assert [i.proposed_measures for i in parsed.items] == [("措施一。", "措施二。"), ("丙措施。",)]


def test_doc_number_with_hexagonal_brackets_and_source_org() -> None:
    parsed = parse_notice_text(
        "关于整改情况的报告\n我院接到市卫健委《关于中医医院巡查情况的通报》（绍市中医〔2024〕61号）后，立即整改。\n"
        "一、医疗方面存在问题\n存在问题：\n1.病历不规范。\n"
    )
    assert (parsed.doc_number, parsed.issuer) == ("绍市中医〔2024〕61号", "市卫健委")


def test_addressee_line_wins_over_the_source_org() -> None:
    parsed = parse_notice_text("县卫生健康局：\n接到市卫健委《通报》（××[2024]40号），现报告如下：\n")
    assert (parsed.issuer, parsed.doc_number) == ("县卫生健康局", "××[2024]40号")


def test_problems_listed_in_the_preamble_and_measures_under_a_heading() -> None:
    parsed = parse_notice_text(
        "2025绩效考核问题整改报告\n发现了不少问题，当前，我们亟需解决的困难和问题主要是：\n"
        "1.办学条件相对落后。2.评价体系不完善。\n"
        "一、整改措施\n1、改善办学条件\n一是争取资金。\n二是完善设施。\n"
        "六、今后的工作思路\n1.多渠道筹措资金。\n"
    )
    assert [(i.category, i.title) for i in parsed.items] == [
        (DEFAULT_CATEGORY, "办学条件相对落后"),
        (DEFAULT_CATEGORY, "评价体系不完善"),
    ]
    assert parsed.items[0].proposed_measures == ("改善办学条件\n一是争取资金。\n二是完善设施。",)
    assert "忽略章节：六、今后的工作思路（第 8 行）" in parsed.notes


def test_headings_that_are_problems_with_their_measures() -> None:
    parsed = parse_notice_text(
        "市绩效考核办：\n现将整改结果汇报如下：\n一、考勤管理不够规范（7月未打）。\n整改措施：每日一考。\n"
        "二、电脑浏览无关网页。整改措施：加强管理。\n三、配车单不够规范、及时。\n"
    )
    assert [(i.title, i.proposed_measures) for i in parsed.items] == [
        ("考勤管理不够规范（7月未打）", ("每日一考。",)),
        ("电脑浏览无关网页", ("加强管理。",)),
    ]
    assert parsed.issuer == "市绩效考核办"


def test_problem_list_then_sub_areas() -> None:
    parsed = parse_notice_text(
        "一、存在的主要问题\n（一）医疗方面\n1.病历不规范。\n（二）药事方面\n1.处方点评不足。\n"
        "二、整改措施\n（一）医疗方面\n1.开展病历抽查。\n"
    )
    assert [(i.category, i.title, i.proposed_measures) for i in parsed.items] == [
        ("医疗方面", "病历不规范", ("开展病历抽查。",)),
        ("药事方面", "处方点评不足", ()),
    ]


def test_bare_sub_headings_under_a_problem_list_are_the_problems() -> None:
    parsed = parse_notice_text(
        "一、存在的主要问题\n（一）单位管理规章制度不够完善\n（二）工作创新力度不够\n二、整改措施\n1、完善制度。\n"
    )
    assert [(i.row, i.category, i.title, i.proposed_measures) for i in parsed.items] == [
        (2, DEFAULT_CATEGORY, "单位管理规章制度不够完善", ("完善制度。",)),
        (3, DEFAULT_CATEGORY, "工作创新力度不够", ("完善制度。",)),
    ]


def test_deeply_repeated_headings_and_labels_do_not_recurse() -> None:
    assert parse_notice_text("一、。" * 3000).problems
    assert parse_notice_text("存在问题：" * 3000 + "1.甲。").items[0].title == "甲"


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "一、总体要求\n1.全面深化改革。\n", "车间主任级干部绩效考评办法\n1、目的\n为了提高效益。"],
    ids=["empty", "blank lines", "only a plan", "no areas"],
)
def test_no_problem_found(text: str) -> None:
    parsed = parse_notice_text(text)
    assert parsed.items == []
    assert [(p.row, p.column, p.message) for p in parsed.problems] == [(None, None, NO_PROBLEM)]


_TOKENS = st.sampled_from(
    ["\n", "\r\n", "一、", "（一）", "1.", "2、", "(1)", "（2）", "①", "3)", "存在问题：", "整改措施：", "问题",
     "下一步", "。", "；", "：", "  ", "医疗方面", "篇二：", "〔2024〕", "号", "x卫健医", "\ufeff", "１．", "⑴"]
)  # fmt: skip


@settings(max_examples=300)
@given(st.one_of(st.text(), st.lists(st.one_of(_TOKENS, st.text(max_size=3)), max_size=60).map("".join)))
def test_never_raises(text: str) -> None:
    parsed = parse_notice_text(text)
    assert parsed.items or parsed.problems
    assert all(item.title and item.category for item in parsed.items)


_CN = "一二三四五六七八九"
_WORD = st.text(alphabet="医疗药事院感财务护理质量安全管理病历制度规范培训", min_size=1, max_size=8)
_TOP = st.sampled_from(["{}.", "{}、", "{}．", "{}. ", "FW{}．"])
_SUB = st.sampled_from(["({})", "（{}）", "CIRCLED"])


def _mark(style: str, n: int) -> str:
    if style == "CIRCLED":
        return chr(0x2460 + n - 1)
    if style.startswith("FW"):
        return style[2:].format(str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    return style.format(n)


@st.composite
def _area(draw: st.DrawFn, number: int) -> tuple[str, list[tuple[str, str]]]:
    """One area: its text and the (category, title) of each numbered problem written in it."""
    name, top = draw(_WORD), draw(_TOP)
    titles = draw(st.lists(_WORD, max_size=5))
    lines = [f"{_CN[number]}、{name}方面存在问题及整改措施", "存在问题："]
    for i, title in enumerate(titles, 1):
        rest = draw(st.sampled_from(["", draw(_WORD) + "。"]))
        lines.append(f"{_mark(top, i)}{title}。{rest}")
        sub = draw(_SUB)
        lines += [f"{_mark(sub, j)}{draw(_WORD)}。" for j in range(1, draw(st.integers(0, 3)) + 1)]
    if draw(st.booleans()):
        lines += ["整改措施："] + [f"{j}、{m}。" for j, m in enumerate(draw(st.lists(_WORD, max_size=3)), 1)]
    return "\n".join(lines), [(f"{name}方面", title) for title in titles]


@settings(max_examples=200)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*(_area(i) for i in range(n)))), st.booleans())
def test_never_loses_a_numbered_problem(
    areas: tuple[tuple[str, list[tuple[str, str]]], ...], plan: bool
) -> None:
    text = "整改报告\n县卫健委：\n" + "\n".join(body for body, _ in areas)
    if plan:
        text += f"\n{_CN[len(areas)]}、下一步改进计划\n1.持续改进。\n"
    expected = [problem for _, problems in areas for problem in problems]
    parsed = parse_notice_text(text)
    assert [(item.category, item.title) for item in parsed.items] == expected
    assert parsed.problems == ([] if expected else [Problem(row=None, column=None, message=NO_PROBLEM)])
