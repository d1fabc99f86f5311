from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from kb.article_import import article_decode, article_parse, tags_suggest
from kb.models import Answer, Question, Revision, Tag
from kb.services.tags import tag_upsert
from kb.starter import starter_tags
from tests.factories import UserFactory, question_make

ARTICLES = Path(__file__).resolve().parent / "articles"
VOCABULARY = {tag.name: tag.aliases for tag in starter_tags()}

TXT_TITLES = [
    "什么是RAG？RAG相比直接微调有什么优势？",
    "为什么现在的大模型大多使用 RMSNorm 而不是 LayerNorm？",
    "介绍一下 DPO 的原理",
    "CLIP 是如何进行训练的？",
    "BLIP-2 中的 Q-Former 起什么作用？",
]


def plan_of(name: str):
    path = ARTICLES / name
    return article_parse(
        article_decode(path.read_bytes()), source_name=path.name, vocabulary=VOCABULARY
    )


def item_titled(plan, title: str):
    return next(item for item in plan.items if item.title == title)


def import_article(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_article", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def row_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Question, Answer, Revision, Tag, User))


@pytest.fixture
def starter_tag_rows(db):
    for tag in starter_tags():
        tag_upsert(name=tag.name, description=tag.description, aliases=tag.aliases)


# --- parsing, no database -----------------------------------------------------------------------


def test_text_article_yields_one_item_per_question_with_consecutive_lines_merged():
    plan = plan_of("llm_interview.txt")
    assert plan.page_title == "大模型算法岗面试题整理（附参考答案）"
    assert [item.title for item in plan.items] == TXT_TITLES
    assert [item.section for item in plan.items] == ["LLM相关问题"] * 3 + ["多模态相关问题"] * 2
    assert plan.unanswered == ()


def test_junk_around_the_article_is_dropped():
    plan = plan_of("llm_interview.txt")
    everything = "\n".join(f"{item.title}\n{item.body}\n{item.answer}" for item in plan.items)
    for junk in ("当前位置", "发布时间", "分享到", "上一篇", "下一篇", "相关文章", "LoRA", "秋招"):
        assert junk not in everything
    assert "大模型推理加速有哪些方法？" in plan.dropped_lines
    # The intro paragraph before the first question belongs to no answer.
    assert "最近面了几家大厂" not in everything


def test_lists_are_kept_as_markdown_with_their_nesting():
    answer = item_titled(plan_of("llm_interview.txt"), TXT_TITLES[0]).answer
    assert (
        "相比微调，主要优势有：\n\n"
        "1. 知识更新成本低\n"
        "   1. 只需要更新向量库，不用重新训练模型\n"
        "   2. 可以做到天级甚至小时级的知识更新\n"
        "2. 可解释性好，答案可以附上引用来源\n"
        "3. 能缓解幻觉，但检索质量差时依然会出错\n\n"
        "常见的检索方式：\n\n"
        "- 稀疏检索：BM25\n"
        "- 稠密检索：双塔向量模型\n"
        "  - 向量一般存放在 Faiss、Milvus 等向量库中\n"
        "- 混合检索加重排（rerank）"
    ) in answer
    assert "•" not in answer


def test_a_formula_heading_without_its_formula_is_kept_and_nothing_is_invented():
    answer = item_titled(plan_of("llm_interview.txt"), "介绍一下 DPO 的原理").answer
    assert "损失函数公式：\n\n其中 y_w 是被偏好的回答" in answer
    assert "$" not in answer


def test_question_body_says_where_the_question_came_from():
    item = item_titled(plan_of("llm_interview.txt"), "CLIP 是如何进行训练的？")
    assert item.body == "（导入自《大模型算法岗面试题整理（附参考答案）》：多模态相关问题）"


def test_markdown_article_merges_consecutive_question_headings_and_keeps_code():
    plan = plan_of("vlm_notes.md")
    assert plan.page_title == "多模态大模型面试笔记"
    assert [item.title for item in plan.items] == [
        "LLaVA 的整体结构是什么？",
        "视觉编码器为什么常用 CLIP ViT？训练时视觉编码器需要冻结吗？",
        "多模态大模型的幻觉问题怎么缓解？",
    ]
    llava, _, hallucination = plan.items
    assert "2. 投影层：\n   - LLaVA 用一个线性层\n   - LLaVA-1.5 换成了两层 MLP\n3." in (
        llava.answer
    )
    assert "```python\noutputs = model.generate(" in hallucination.answer
    assert "example.com" not in hallucination.answer and "作者" not in llava.answer


def test_html_article_becomes_the_same_structure_without_scripts_or_styles():
    plan = plan_of("kv_cache.html")
    assert plan.page_title == "大模型推理面试题：KV Cache 与注意力变体"
    assert [item.title for item in plan.items] == [
        "KV Cache 为什么能加速推理？",
        "什么是 GQA？GQA 和 MQA 有什么区别？",
    ]
    kv_cache, gqa = plan.items
    assert (
        "1. 显存占用随序列长度线性增长\n"
        "   1. 每层缓存大小为 2 × batch × seq_len × hidden\n"
        "   2. 长上下文时显存往往是瓶颈\n"
        "2. 计算量从每步 O(n²) 降到 O(n)"
    ) in kv_cache.answer
    assert "- KV Cache 显存：MHA > GQA > MQA" in gqa.answer
    assert "注意力计算公式：\n\n其中 d_k" in gqa.answer
    everything = "\n".join(item.answer for item in plan.items)
    for junk in ("dataLayer", "埋点", "font-family", "热门", "FlashAttention", "Copyright"):
        assert junk not in everything


def test_html_without_h1_takes_the_page_title_from_the_title_element():
    plan = article_parse(
        "<html><head><title>RAG 面试题 - 某博客</title></head><body>"
        "<p>什么是 RAG？</p><p>检索增强生成。</p></body></html>",
        vocabulary={},
    )
    assert plan.page_title == "RAG 面试题"
    assert [(item.title, item.answer) for item in plan.items] == [
        ("什么是 RAG？", "检索增强生成。")
    ]


def test_a_too_long_merged_title_keeps_the_first_line_and_moves_the_rest_to_the_body():
    first = "在长上下文场景下，" + "位置编码外推" * 10 + "有哪些方法？"
    second = "这些方法各自的优缺点是什么，" + "在工程上" * 15 + "应该如何选择？"
    plan = article_parse(
        f"长上下文专题\n{first}\n{second}\n可以用 NTK 插值或 YaRN。", vocabulary={}
    )
    (item,) = plan.items
    assert item.title == first
    assert item.body == f"{second}\n\n（导入自《长上下文专题》）"
    assert item.answer == "可以用 NTK 插值或 YaRN。"


def test_a_question_without_answer_text_is_reported_not_planned():
    plan = article_parse(
        "面试记录\n什么是位置编码？\n位置编码给每个 token 加上位置信息。\n\n多模态相关问题:\n"
        "什么是视觉指令微调？\n",
        vocabulary={},
    )
    assert [item.title for item in plan.items] == ["什么是位置编码？"]
    assert plan.unanswered == ("什么是视觉指令微调？",)


def test_numbered_question_lines_are_found_when_nothing_else_looks_like_a_question():
    plan = article_parse(
        "LoRA 面试题\n1、LoRA 的原理是什么？\n答：在权重旁加低秩矩阵 BA，只训练 A 和 B。\n"
        "2、LoRA 的秩一般怎么选？\n常用 8 到 64。",
        vocabulary={},
    )
    assert [(item.title, item.answer) for item in plan.items] == [
        ("LoRA 的原理是什么？", "在权重旁加低秩矩阵 BA，只训练 A 和 B。"),
        ("LoRA 的秩一般怎么选？", "常用 8 到 64。"),
    ]


@pytest.mark.parametrize(
    ("title", "answer", "section", "expected"),
    [
        ("什么是rag？", "检索增强生成先检索再生成。", "", ["rag"]),
        ("RMSNorm 有什么好处？", "它是层归一化的变体。", "LLM相关问题", ["normalization", "llm"]),
        (
            "Q-Former 的作用？",
            "连接图像编码器和 LLM。",
            "多模态相关问题",
            ["blip", "multimodal", "vlm"],
        ),
        ("梯度裁剪是怎么做的？", "gradient clipping 限制梯度范数。", "", ["llm"]),
        ("什么是梯度累积？", "一种省显存的方法。", "", ["llm"]),
        (
            "RAG、RLHF、CLIP、BLIP、LLaVA 和 Qwen 的关系？",
            "RAG 用检索；RLHF 用 PPO。",
            "LLM相关问题",
            ["rlhf", "rag", "blip", "clip", "llava"],
        ),
    ],
    ids=[
        "case-insensitive",
        "title-first",
        "section-hint",
        "word-boundary",
        "default",
        "at-most-5",
    ],
)
def test_tags_are_suggested_from_names_and_aliases(title, answer, section, expected):
    tags = tags_suggest(title=title, answer=answer, section=section, vocabulary=VOCABULARY)
    assert tags == expected


def test_suggested_tags_of_the_text_article_lead_with_the_topic():
    plan = plan_of("llm_interview.txt")
    assert item_titled(plan, TXT_TITLES[0]).tags[0] == "rag"
    assert item_titled(plan, "介绍一下 DPO 的原理").tags[0] == "rlhf"
    assert set(item_titled(plan, "BLIP-2 中的 Q-Former 起什么作用？").tags) >= {"blip", "vlm"}


# --- the command, against the database ----------------------------------------------------------


def test_import_creates_questions_with_answers_revisions_and_tags(starter_tag_rows):
    out, _ = import_article(str(ARTICLES / "llm_interview.txt"))
    assert "Imported 5 questions" in out
    assert sorted(Question.objects.values_list("title", flat=True)) == sorted(TXT_TITLES)
    system = User.objects.get(is_system=True)
    for question in Question.objects.all():
        answer = question.answers.get()
        assert question.author == answer.author == system
        assert [r.number for r in question.revisions.all()] == [1]
        assert [r.number for r in answer.revisions.all()] == [1]
        assert question.answer_count == 1 and question.tags.exists()
    rag = Question.objects.get(title=TXT_TITLES[0])
    assert set(rag.tags.values_list("name", flat=True)) == {"rag", "llm"}
    assert "<ol>" in rag.answers.get().body_html
    assert Tag.objects.get(name="rag").question_count == 1


def test_a_second_import_skips_every_question_and_reports_it(starter_tag_rows):
    path = str(ARTICLES / "kv_cache.html")
    import_article(path)
    counts = row_counts()
    out, _ = import_article(path)
    assert row_counts() == counts
    assert "Imported 0 questions" in out and "skipped 2" in out
    assert "skipped (exists): 什么是 GQA？GQA 和 MQA 有什么区别？" in out


def test_an_existing_title_is_matched_case_insensitively(starter_tag_rows):
    question_make(title="llava 的整体结构是什么？")
    out, _ = import_article(str(ARTICLES / "vlm_notes.md"))
    assert "Imported 2 questions" in out and "skipped (exists): LLaVA 的整体结构是什么？" in out
    assert Question.objects.filter(title__iexact="llava 的整体结构是什么？").count() == 1


def test_import_posts_as_the_named_author(starter_tag_rows):
    author = UserFactory(username="zhang_san")
    import_article(str(ARTICLES / "vlm_notes.md"), "--author", "Zhang_San")
    assert set(Question.objects.values_list("author", flat=True)) == {author.pk}
    assert set(Answer.objects.values_list("author", flat=True)) == {author.pk}


def test_dry_run_prints_the_plan_and_writes_nothing(starter_tag_rows):
    counts = row_counts()
    out, _ = import_article(str(ARTICLES / "kv_cache.html"), "--dry-run")
    assert row_counts() == counts
    assert not User.objects.filter(is_system=True).exists()
    assert "KV Cache 为什么能加速推理？" in out
    assert "tags: inference, llm" in out and "answer: " in out and "chars" in out
    assert out.rstrip().endswith("Dry run: nothing written.")


def test_dry_run_marks_questions_that_would_be_skipped(starter_tag_rows):
    import_article(str(ARTICLES / "kv_cache.html"))
    out, _ = import_article(str(ARTICLES / "kv_cache.html"), "--dry-run")
    assert out.count("exists, would be skipped") == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "NUL bytes"),
        (b"", "is empty"),
        (b"  \n\n\t\n", "is empty"),
        (bytes(range(1, 32)) * 400 + bytes(range(128, 256)) * 50, "looks binary"),
        ("什么是RAG？\n检索增强。\n".encode() * 800_000, "the limit is 2 MB"),
        ("今天面试聊得不错。\n面试官人很好。\n".encode(), "no questions found"),
        ("什么是RAG？\n什么是GQA？\n".encode(), "no questions found"),
        (b"<html><script>var q = '1?';</script></html>", "no questions found"),
    ],
    ids=[
        "binary",
        "empty",
        "whitespace",
        "control-bytes",
        "10-MB",
        "no-questions",
        "no-answers",
        "html-script",
    ],
)
def test_bad_files_exit_2_with_a_message_and_write_nothing(
    starter_tag_rows, tmp_path, content, message
):
    path = tmp_path / ("article.html" if content.startswith(b"<html") else "article.txt")
    path.write_bytes(content)
    counts = row_counts()
    with pytest.raises(CommandError) as error:
        import_article(str(path))
    assert error.value.returncode == 2
    assert message in str(error.value) and str(path) in str(error.value)
    assert row_counts() == counts


def test_a_missing_file_exits_2(db, tmp_path):
    with pytest.raises(CommandError) as error:
        import_article(str(tmp_path / "nope.md"))
    assert error.value.returncode == 2 and "cannot read" in str(error.value)


def test_an_unknown_author_exits_2_and_writes_nothing(starter_tag_rows):
    counts = row_counts()
    with pytest.raises(CommandError) as error:
        import_article(str(ARTICLES / "vlm_notes.md"), "--author", "nobody_here")
    assert error.value.returncode == 2 and "Unknown author" in str(error.value)
    assert row_counts() == counts


def test_a_refused_answer_rolls_back_the_whole_import(starter_tag_rows, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(
        "长文章\n什么是位置编码？\n给 token 加上位置信息。\n什么是长度外推？\n" + "长" * 30001,
        encoding="utf-8",
    )
    counts = row_counts()
    with pytest.raises(CommandError) as error:
        import_article(str(path))
    assert error.value.returncode == 2
    assert "《什么是长度外推？》" in str(error.value) and "nothing imported" in str(error.value)
    assert row_counts() == counts


def test_command_imports_are_unverified_with_their_provenance(starter_tag_rows):
    from kb.models import ArticleImport

    import_article(str(ARTICLES / "kv_cache.html"))
    provenance = ArticleImport.objects.get()
    answers = Answer.objects.filter(imported_from=provenance)
    assert answers.count() == len(provenance.answer_ids) == 2
    assert set(answers.values_list("verification", flat=True)) == {"unverified"}
    assert provenance.source_title == "大模型推理面试题：KV Cache 与注意力变体"
