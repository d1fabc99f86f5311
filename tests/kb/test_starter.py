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
    "17": [r"\mathrm{Var}(q\cdot k)=d_k", "softmax 之前", "不是为了数值溢出"],
    "18": ["不是只依赖 m−n", r"b'=b\cdot s^{d/(d-2)}", r"0.1\ln s+1", "不作用于 V"],
    "19": ["工具包", "似然", "256 个字节", "49,953"],
    "20": ["Q 不需要缓存", "20.4%–38.2%", "512 KiB", "iteration-level scheduling"],
    "21": [r"\min\left(p(x),q(x)\right)", r"\max\left(0,\,p(x)-q(x)\right)", "恰好相反"],
    "22": ["激活幅度", "W8A8", "448", "57344", "不做反向传播"],
    "23": ["$B=0$", "BF16", "0.127", "激活显存不变"],
    "24": [r"f_i\,P_i", "不可导", "残差", "all-to-all"],
    "25": ["576", "2.25", "只用于选择", "0.0001", "信息截至"],
    "26": ["R1-Zero", "不需要价值模型", "不成功的尝试", "信息截至", "78.2%"],
}


@pytest.mark.parametrize("number", sorted(FACTS))
def test_starter_answers_state_what_notes_get_wrong(number):
    item = next(q for q in STARTER if q.path.name.startswith(number))
    text = item.body + "\n".join(item.answers)
    missing = [fact for fact in FACTS[number] if fact not in text]
    assert not missing, f"{item.path.name} lacks {missing}"


# Answers 27–36 (issue 18, part B): the formulas and facts each must keep stating.
FACTS_27_TO_36 = {
    "27": [r"\sum_{x \in V^{(p)}} P(x \mid x_{<t}) \ge p", r"p_{\mathrm{base}} \cdot \max_j p_j",
           "排序不变", "Contrastive search", "Holtzman"],
    "28": [r"e^{m^{(j)} - m^{(j+1)}}", r"\Theta(N^2 d^2 M^{-1})", "dO_i^\\top o_i =: D_i",
           "740 TFLOPs/s"],
    "29": ["C^{0.73}", "E=1.69", r"\frac{\beta}{\alpha+\beta}", "学习率调度",
           r"10^{-4}\cdot \log^2 Z", "QK-Norm"],
    "30": [r"\Pr\big[h_{\min}(A) = h_{\min}(B)\big] = J(A,B)", r"1 - \left(1 - s^{r}\right)^{b}",
           "112 个哈希", "15T token", "4 个 epoch"],
    "31": ["-100", "ignore_index", "块对角", "cu_seqlens", "结束符"],
    "32": [r"\binom{n-c}{k}", "Jensen", "位置偏差", "Min-K% Prob", "13-gram"],
    "33": ["Thought", "tool_calls", "JSON-RPC 2.0", "pass^k", "间接提示注入"],
    "34": [r"\partial \mathcal{L}/\partial s_j = p_j/\tau", "假负例", "MaxSim", "efSearch",
           "96 字节"],
    "35": ["196", "一维", "z_{ij}", "$-10$", r"\log 10", "32k"],
    "36": ["信息截至", r"\mathrm{CHAIR}_i", "Adversarial", "1–12", "66 个", "每秒 2 帧"],
}  # fmt: skip


@pytest.mark.parametrize("number", sorted(FACTS_27_TO_36))
def test_starter_answers_27_to_36_state_their_facts(number):
    item = next(q for q in STARTER if q.path.name.startswith(number))
    text = item.body + "\n".join(item.answers)
    missing = [fact for fact in FACTS_27_TO_36[number] if fact not in text]
    assert not missing, f"{item.path.name} lacks {missing}"
