# ruff: noqa: E501
"""The corpus: realistic articles of different layouts, each with the exact questions a reader
sees in it. A new layout or a parsing bug adds a file here with its expected questions."""

from pathlib import Path

import pytest

from kb.article_import import article_decode_detected, article_parse

CORPUS = Path(__file__).resolve().parent / "articles" / "corpus"

EXPECTED = {
    # Browser copy of a blog post: bare noun-phrase headings set off by blank lines, a few "?",
    # numbered lists restarting in each answer, "•" sub-bullets, colon lines inside answers.
    "llm_vlm_common.txt": (
        "LLM和VLM算法常见面试题",
        [
            "Transformer网络结构介绍",
            "Self-Attention和Cross-Attention的区别",
            "为什么要除以根号dk?",
            "LayerNorm和BatchNorm的区别",
            "位置编码的几种方式",
            "RoPE的原理",
            "MHA、MQA和GQA的区别",
            "KV Cache原理",
            "LoRA微调原理",
            "大模型训练的几个阶段?",
            "RLHF流程介绍",
            "DPO和PPO的区别",
            "CLIP的训练方式",
            "ViT网络结构介绍",
            "LLaVA和BLIP-2的区别",
            "多模态大模型为什么会产生幻觉?",
        ],
    ),
    # Saved CSDN page: toolbar, author bar, tags, copyright box, toolbox, comments, recommended.
    "csdn_transformer.html": (
        "Transformer面试题汇总（含答案）",
        [
            "Transformer为什么使用多头注意力？",
            "Q和K为什么使用不同的权重矩阵？",
            "Transformer中的Mask机制",
            "Decoder-only架构为什么成为主流？",
        ],
    ),
    # Saved cnblogs page: the blog's own h1 in #header, sections as h3, signature, post info.
    "cnblogs_rag.html": (
        "RAG 面试题整理",
        ["向量检索和关键词检索各有什么优缺点？", "chunk大小怎么选？", "如何评估RAG系统？"],
    ),
    # Saved Zhihu column: headings without "?" except one; comments and recommendations.
    "zhihu_column.html": (
        "大模型推理优化面试题",
        [
            "投机解码的原理",
            "FlashAttention的核心思想",
            "量化方法有哪些？",
            "Continuous Batching是什么",
        ],
    ),
    # Saved Juejin page: "问题一：" headings, numbered lists after a colon line.
    "juejin_vlm.html": (
        "多模态大模型面试题（一）",
        ["Q-Former的作用是什么", "视觉token太多怎么办", "多模态模型的训练分几个阶段"],
    ),
    # Saved WeChat article: bold paragraphs "01 …" as headings, 往期推荐, 留言.
    "wechat_rlhf.html": (
        "大模型对齐面试，这5道题必问",
        [
            "奖励模型是怎么训练的",
            "PPO里的KL惩罚有什么作用",
            "什么是拒绝采样微调",
            "DPO的损失函数",
            "对齐税是什么？",
        ],
    ),
    # WeChat article copied as Markdown: bold lines as headings.
    "wechat_bold.md": (
        "大模型幻觉面试题 | 看这一篇就够了",
        ["什么是大模型的幻觉", "幻觉产生的原因", "怎么检测幻觉", "如何缓解幻觉？"],
    ),
    # Jianshu copied from the browser: "1、" headings, meta lines, a tail of app prompts.
    "jianshu_copy.txt": (
        "大模型面试之MoE专题",
        ["MoE的基本结构", "负载均衡损失的作用", "MoE推理时的难点", "Dense模型和MoE模型怎么选"],
    ),
    # "Q1: … / A: …" notes.
    "qa_numbered.txt": (
        "大模型分布式训练 Q&A",
        [
            "数据并行、张量并行和流水线并行分别是什么？",
            "ZeRO的三个阶段分别切分了什么",
            "混合精度训练为什么需要loss scaling",
            "梯度检查点的原理",
        ],
    ),
    # "一、基础篇" sections with "问题一：" questions and "答：" answers.
    "enum_chinese.txt": (
        "大模型基础知识问答",
        [
            "什么是大模型的涌现能力",
            "什么是上下文学习",
            "思维链提示为什么有效",
            "温度和top-p采样的区别",
        ],
    ),
    # Markdown with front matter, [TOC], "## 2.1" numbered headings, a table, references.
    "markdown_headings.md": (
        "大模型评测面试题",
        ["困惑度（PPL）的定义", "常用的评测基准", "介绍一下数据污染问题", "如何评测长上下文能力？"],
    ),
    # A forum post saved in GB18030, "1. " headings set off by blank lines, replies below.
    "gbk_forum.txt": (
        "【求助】大模型岗二面被问到的几道题，大佬们帮看看答得对不对",
        ["为什么大模型要用Pre-Norm", "SwiGLU激活函数的优点", "词表大小对模型的影响"],
    ),
}

SECTIONS = {
    "cnblogs_rag.html": ["检索相关", "检索相关", "生成相关"],
    "enum_chinese.txt": ["基础篇", "基础篇", "进阶篇", "进阶篇"],
}

# Text of the page's chrome that must not reach any question or answer.
JUNK = {
    "llm_vlm_common.txt": ["首页", "阅读 5.2k", "文章标签", "相关推荐", "匿名用户", "八股文"],
    "csdn_transformer.html": [
        "小王同学",
        "阅读量",
        "版权声明",
        "一键收藏",
        "路人甲",
        "根号d",
        "码龄",
    ],
    "cnblogs_rag.html": [
        "码农老李",
        "好文要顶",
        "posted @",
        "训练营",
        "评论列表",
        "重叠一般设多少",
    ],
    "zhihu_column.html": ["算法小陈", "赞同", "首发于", "草稿模型怎么选", "vLLM源码", "IP 属地"],
    "juejin_vlm.html": ["前端转算法", "阅读 3,456", "标签", "数量为什么是 32", "论文精读", "稀土"],
    "wechat_rlhf.html": ["星标", "往期推荐", "在看", "阅读原文", "写得很好", "-END-", "MoE"],
    "wechat_bold.md": ["原创", "点击上方", "往期推荐", "必问的 8 个"],
    "jianshu_copy.txt": ["字数", "赞赏", "简书", "小礼物", "8人点赞", "稀疏激活"],
    "markdown_headings.md": ["title:", "[TOC]", "参考资料", "RULER 论文", "首发于"],
    "gbk_forum.txt": ["只看该作者", "沙发", "回复 支持", "答得不错"],
}


def plan_of(name: str):
    path = CORPUS / name
    text, _ = article_decode_detected(path.read_bytes())
    return article_parse(text, source_name=path.name, vocabulary={})


def test_the_corpus_has_at_least_twelve_articles_each_with_its_expectation():
    files = sorted(path.name for path in CORPUS.iterdir())
    assert len(files) >= 12
    assert files == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_article_yields_exactly_its_questions(name):
    plan = plan_of(name)
    page_title, questions = EXPECTED[name]
    assert plan.page_title == page_title
    assert [item.title for item in plan.items] == questions
    assert plan.unanswered == ()


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_section_headings_are_sections_not_questions(name):
    assert [item.section for item in plan_of(name).items] == SECTIONS[name]


@pytest.mark.parametrize("name", sorted(JUNK))
def test_page_chrome_reaches_no_question_or_answer(name):
    plan = plan_of(name)
    everything = "\n".join(f"{item.title}\n{item.answer}" for item in plan.items)
    for junk in JUNK[name]:
        assert junk not in everything, junk


def test_the_sixteen_question_layout_keeps_lists_bullets_and_colon_lines_in_answers():
    plan = plan_of("llm_vlm_common.txt")
    answers = {item.title: item.answer for item in plan.items}
    assert answers["LayerNorm和BatchNorm的区别"] == (
        "主要区别：\n\n"
        "- 归一化的维度不同\n"
        "  - BatchNorm 在 batch 维度上统计均值方差\n"
        "  - LayerNorm 在特征维度上统计\n"
        "- BatchNorm 依赖 batch 大小，序列长度不一时不好用\n\n"
        "NLP 里几乎都用 LayerNorm 或 RMSNorm。"
    )
    assert answers["KV Cache原理"].endswith(
        "代价：\n\n1. 显存随序列长度线性增长\n2. 需要 PagedAttention 之类的方法管理显存碎片"
    )
    # The numbering restarts in each answer; no answer swallowed the next question.
    assert answers["RLHF流程介绍"].count("1. ") == 1
    for title in answers:
        for other in answers:
            assert other not in answers[title] or other == title or other in title


def test_a_gb18030_page_is_detected_and_decoded():
    text, encoding = article_decode_detected((CORPUS / "gbk_forum.txt").read_bytes())
    assert encoding == "gb18030"
    assert text.startswith("【求助】大模型岗二面")


def test_the_wechat_bold_numbering_is_not_part_of_the_title():
    titles = [item.title for item in plan_of("wechat_rlhf.html").items]
    assert not any(title[0].isdigit() for title in titles)


def test_the_same_layout_without_blank_lines_is_one_answer():
    """The rhythm is what makes a heading: without the blank lines the short lines are body."""
    text = (
        "标题\n\n什么是注意力机制？\n注意力的作用\n让模型关注相关位置。\n多头的作用\n不同子空间。\n"
    )
    plan = article_parse(text, vocabulary={})
    assert [item.title for item in plan.items] == ["什么是注意力机制？"]


@pytest.mark.parametrize(
    "text",
    [
        "<html><body><h1>题目</h1><h2>什么是注意力机制？</h2><p>加权求和。<script>alert(1)"
        '</script></p><p onclick="alert(2)">第二段。</p></body></html>',
        "# 题目\n\n## 什么是注意力机制？\n\n加权求和。\n<script>alert(1)</script>\n"
        "<SCRIPT src=x.js></SCRIPT><iframe src=//evil></iframe>第二段。\n",
    ],
    ids=["html", "markdown"],
)
def test_scripts_never_reach_an_answer(text):
    plan = article_parse(text, vocabulary={})
    assert [item.title for item in plan.items] == ["什么是注意力机制？"]
    answer = plan.items[0].answer.lower()
    assert "加权求和" in answer and "第二段" in answer
    for bad in ("script", "alert", "iframe", "onclick"):
        assert bad not in answer
