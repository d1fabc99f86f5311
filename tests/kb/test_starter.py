import pytest
from django.core.management import call_command

from kb.interview import validate_interview
from kb.markdown import render, render_comment
from kb.models import Answer, Question, Revision, Tag
from kb.services.validation import validate_title
from kb.starter import starter_questions, starter_tags

pytestmark = pytest.mark.django_db


def test_load_starter_is_idempotent():
    call_command("load_starter")
    counts = (Question.objects.count(), Answer.objects.count(), Revision.objects.count())
    assert counts[0] == len(starter_questions()) >= 3
    call_command("load_starter")
    assert (Question.objects.count(), Answer.objects.count(), Revision.objects.count()) == counts


def test_starter_posts_have_only_system_revisions_and_resolved_follow_ups():
    call_command("load_starter")
    ids = {
        q.revisions.get(number=1).summary.removeprefix("starter content: "): q.pk
        for q in Question.objects.all()
    }
    assert set(ids) == {item.stem for item in STARTER}
    for item in STARTER:
        question = Question.objects.get(pk=ids[item.stem])
        assert {r.author.is_system for r in question.revisions.all()} == {True}
        assert question.answers.count() == len(item.answers)
        assert question.key_points == item.key_points
        expected = [{"text": f.text, "question_id": ids.get(f.ref) if f.ref else None}
                    for f in item.follow_ups]  # fmt: skip
        assert question.follow_ups == expected
        linked = [f for f in item.follow_ups if f.ref]
        assert all(ids.get(f.ref) for f in linked), "every follow-up ref names a starter file"


def test_starter_tags_have_descriptions_and_aliases():
    call_command("load_starter")
    assert Tag.objects.filter(name="normalization", aliases__name="层归一化").exists()
    assert not Tag.objects.filter(description="").exists()


# The starter set is checked file by file: the content is the product.
STARTER = starter_questions()
KNOWN_TAGS = {tag.name for tag in starter_tags()}


STEMS = {q.stem for q in STARTER}


@pytest.mark.parametrize("item", STARTER, ids=[q.path.name for q in STARTER])
def test_starter_question_is_well_formed(item):
    assert validate_title(item.title) == item.title
    assert 1 <= len(item.tags) <= 5 and set(item.tags) <= KNOWN_TAGS
    assert item.body.strip()
    for answer in item.answers:
        # The answers carry derivations and tables: up to 8,000 characters.
        assert 400 <= len(answer) <= 8000, f"{len(answer)} characters"
        assert "### 参考" in answer, "every answer cites its sources"
        assert "math-error" not in render(answer)


@pytest.mark.parametrize("item", STARTER, ids=[q.path.name for q in STARTER])
def test_starter_question_has_the_interview_fields(item):
    assert item.difficulty in ("basic", "intermediate", "advanced")
    assert 20 <= len(item.short_answer) <= 600
    assert len(item.key_points) >= 3, "at least three key points"
    assert len(item.common_mistakes) >= 2, "at least two common mistakes"
    assert item.follow_ups, "at least one follow-up question"
    for follow_up in item.follow_ups:
        assert follow_up.text.strip()
        assert follow_up.ref is None or follow_up.ref in STEMS, f"unknown ref {follow_up.ref}"
        assert follow_up.ref != item.stem, "a follow-up links another question"
    # The fields pass the same validation as an edit, and their formulas render.
    validate_interview(difficulty=item.difficulty, short_answer=item.short_answer,
                       key_points=item.key_points, common_mistakes=item.common_mistakes,
                       follow_ups=[{"text": f.text, "question_id": None}
                                   for f in item.follow_ups])  # fmt: skip
    for text in (item.short_answer, *item.key_points, *item.common_mistakes):
        assert "math-error" not in render_comment(text), text


def test_starter_set_is_numbered_without_gaps():
    assert len(STARTER) >= 16
    numbers = sorted(int(q.path.name[:2]) for q in STARTER)
    assert numbers == list(range(1, len(STARTER) + 1))


# The claims that circulating interview notes get wrong, which the starter answers must state
# (the list). A later edit of a starter file that drops one fails here.
FACTS = {
    "02": [
        "decoder-only",
        "不是多智能体",
        "RMSNorm",
        "SwiGLU",
        "RoPE",
        "Pre-Norm",
        "取决于内容 $q$、$k$ 和相对位置 $m-n$",
        "信息截至 ",
    ],
    "04": [
        "ChatGLM3-6B-Base 和 ChatGLM3-6B-32K 不支持",
        "纯文本模型",
        "CogVLM",
        "GLM-4V",
        "信息截至 ",
    ],
    "06": ["信息截至 "],
    "07": ["Kalai", "arXiv:2509.04664", "Sharma", "arXiv:2310.13548"],
    "08": ["整段回答基于同一篇文档生成", "对 top-K 文档"],
    "09": [
        "arXiv:1506.02438",
        r"\mathrm{clip}(\rho_t,1-\epsilon,1+\epsilon)",
        r"(\gamma\lambda)^l",
    ],
    "10": ["`SHARD_GRAD_OP`", "没有只切优化器状态", "边界"],
    "16": ["`FULL_SHARD` 对应 ZeRO-3", "没有直接对应 ZeRO-1", "边界"],
    "03": ["减均值", "偏置", "LLaMA", r"\mathrm{RMS}(x)"],
    "05": ["共享一个 K 头和一个 V 头", '不是"一次输入多个查询"', "每组共享一对 K/V", "KV Cache"],
    "11": ["4 亿", r"{\tau}", r"\mathcal{L}=\frac{1}{2}", "可学习", "余弦", "L2 归一化"],
    "12": ["MED", "ITC", "ITM", "LM", "CapFilt", "不是 Q-Former 的一部分"],
    "13": ["32 个", "两阶段", "冻结", "Q-Former", "Q-Former 和图像编码器一起更新", "CapFilt"],
    "14": ["指令感知", "Q-Former"],
    "15": [
        "ViT-L/14",
        "一个线性层",
        "两层 MLP",
        "只训练投影层",
        "投影层和 LLM 一起训练",
        "下游微调描述/VQA 时与 Q-Former 一起更新",
        "信息截至 ",
    ],
}


@pytest.mark.parametrize("number", sorted(FACTS))
def test_starter_answers_state_what_notes_get_wrong(number):
    item = next(q for q in STARTER if q.path.name.startswith(number))
    text = item.body + "\n".join(item.answers)
    missing = [fact for fact in FACTS[number] if fact not in text]
    assert not missing, f"{item.path.name} lacks {missing}"
