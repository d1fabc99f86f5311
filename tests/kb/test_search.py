"""kb/search.py: normalisation, segmentation, documents, query language, snippets. No database."""

import re
from datetime import date

import pytest

from kb import search
from kb.search import build_plan, parse_query


def lexemes_of(vector: str) -> dict[str, str]:
    """'word':1A,5C '^ marked' ... -> {word: "1A,5C", "^ marked": ""}"""
    found = {}
    for item in re.findall(r"'((?:[^']|'')*)'(?::([0-9A-D,]+))?", vector):
        found[item[0].replace("''", "'")] = item[1]
    return found


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("注意力機制", "注意力机制"),
        ("ＲＭＳＮｏｒｍ　層歸一化", "rmsnorm 层归一化"),
        ("Q-Former", "q-former"),
        ("“位置编码”", '"位置编码"'),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_normalize_folds_width_case_and_traditional_characters(raw, normalized):
    assert search.normalize(raw) == normalized


def test_dictionary_keeps_ml_terms_whole():
    tokens = search.segment(search.normalize("大模型的注意力机制与指令微调"))
    assert {"大模型", "注意力机制", "指令微调"} <= set(tokens)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("q-former", {"q-former", "qformer", "former"}),
        ("embeddings", {"embeddings", "embedding"}),
        ("loss", {"loss"}),
        ("3.5", {"3.5"}),
        ("，", set()),
        (" ", set()),
    ],
)
def test_token_lexemes_add_parts_joined_forms_and_singulars(token, expected):
    assert set(search.token_lexemes(token)) == expected


def test_document_weights_sections_and_drops_stop_words():
    document = search.question_document(
        title="RMSNorm是什么",
        tags=["normalization"],
        body="**层归一化**的公式",
        answers=["回答 RAG"],
    )
    found = lexemes_of(document.vector)
    assert found["rmsnorm"].endswith("A")
    assert found["normalization"].endswith("B")
    assert found["层归一化"].endswith("C") and found["归一化"].endswith("C")
    assert found["rag"].endswith("D")
    assert "是" not in found and "的" not in found and "**" not in document.vector
    assert document.latin_words == {"rmsnorm", "normalization", "rag"}


def test_title_and_tag_lexemes_are_also_stored_marked_without_positions():
    document = search.question_document(
        title="RMSNorm是什么", tags=["normalization"], body="正文 LayerNorm", answers=[]
    )
    found = lexemes_of(document.vector)
    assert found["^ rmsnorm"] == "" and found["^ normalization"] == ""
    assert "^ layernorm" not in found and "^ 正文" not in found


def test_lexemes_are_quoted_for_tsvector_and_tsquery_literals():
    assert search.quote_lexeme("it's a \\ b") == "'it''s a \\\\ b'"


def test_document_indexes_only_the_first_characters_of_very_long_posts():
    body = "甲乙 " * 20_000 + "结尾词"
    document = search.build_document([(body, search.BODY)])
    assert "结尾词" not in document.vector
    assert len(document.vector.encode()) < 1_000_000


def test_document_positions_never_pass_the_postgres_limit():
    words = " ".join(f"w{number}" for number in range(20_000))
    document = search.build_document([(words, search.BODY)])
    positions = [int(p.rstrip("ABCD")) for v in lexemes_of(document.vector).values()
                 for p in v.split(",")]  # fmt: skip
    assert max(positions) <= search.MAX_POSITION


def test_plain_text_keeps_code_as_written():
    text = search.plain_text(
        "用 `<img src=x>` 比较 a < b\n```python\nx = {'k': 1}  # **不是粗体**\n```\n后"
    )
    assert text == "用 <img src=x> 比较 a < b\nx = {'k': 1} # **不是粗体**\n后"


def test_plain_text_drops_markdown_syntax_and_display_math():
    text = search.plain_text(
        "### 标题\n\n**粗体** 和 [链接](https://example.com) `code`\n\n$$\\frac{a}{b}$$\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "标题" in text and "粗体 和 链接" in text and "code" in text
    assert not any(mark in text for mark in ("###", "**", "](", "$$", "frac", "|", "---"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("RMSNorm 区别", {"words": ["RMSNorm", "区别"]}),
        ('"位置 编码" -bert', {"phrases": ["位置 编码"], "excluded_words": ["bert"]}),
        ("“位置编码”", {"phrases": ["位置编码"]}),
        ('-"pre norm"', {"excluded_phrases": ["pre norm"]}),
        ("[rag] -[BERT] 【LLM】", {"tags": ["rag", "llm"], "excluded_tags": ["bert"]}),
        ("[large language model]", {"tags": ["large-language-model"]}),
        ("user:张三 user:@bob", {"user": "bob"}),
        ("score:3 answers:2", {"score_min": 3, "answers_min": 2}),
        ("score:-5", {"score_min": -5}),
        ("is:answer", {"kind": "answer"}),
        ("is:Q", {"kind": "question"}),
        ("accepted:yes closed:no", {"accepted": True, "closed": False}),
        ("created:2025..2026", {"created_from": date(2025, 1, 1),
                                "created_until": date(2027, 1, 1)}),
        ("created:2025-02", {"created_from": date(2025, 2, 1), "created_until": date(2025, 3, 1)}),
        ("created:2024-12", {"created_from": date(2024, 12, 1), "created_until": date(2025, 1, 1)}),
        ("created:2025-01-31", {"created_from": date(2025, 1, 31),
                                "created_until": date(2025, 2, 1)}),
        ("created:..2024", {"created_until": date(2025, 1, 1)}),
        ("created:2025-06..", {"created_from": date(2025, 6, 1)}),
        ("ｓｃｏｒｅ：７", {"score_min": 7}),
    ],
)  # fmt: skip
def test_parse_query_operators(query, expected):
    parsed = parse_query(query)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, name


@pytest.mark.parametrize(
    "query",
    ["foo:bar", "score:abc", "answers:-1x", "is:maybe", "accepted:perhaps", "created:2025-13",
     "created:2025-02-30", "created:99999", "created:..", "created:1..2..3", "closed:", "user:"],
)  # fmt: skip
def test_unknown_operators_and_bad_values_are_searched_as_words(query):
    parsed = parse_query(query)
    assert parsed.words == [query]
    assert parsed.score_min is None and parsed.kind is None and parsed.created_from is None


def test_huge_numbers_are_clamped_to_the_integer_column():
    assert parse_query("score:999999999").score_min == 999_999_999
    assert parse_query("score:99999999999999999999").words == ["score:99999999999999999999"]


@pytest.mark.parametrize(
    "query",
    ['"', '""', "-", "--", "[]", "[", "]", "-[]", '-"', "::::", "\x00", "'", "\\", "!&|():*<->",
     "a" * 10_000, "【】", "\u202e", "😀" * 50],
)  # fmt: skip
def test_malformed_queries_parse_and_plan_without_error(query):
    parsed = parse_query(query)
    plan = build_plan(parsed)
    plan.tsquery()
    plan.tsquery(relaxed=True, in_title=True)
    assert len(parsed.text) <= search.QUERY_MAX_LENGTH


def test_plan_drops_stop_words_and_makes_single_characters_optional():
    plan = build_plan(parse_query("梯度累积是怎么实现的"))
    assert plan.tsquery() == "'梯度累积' & '实现'"


@pytest.mark.parametrize("word", ["注意事项", "梯度累积", "光刻机", "图文匹配"])
def test_plan_matches_a_dictionary_word_as_itself_not_through_shorter_words(word):
    # Documents are segmented with the same dictionary: a compound that holds the word has it
    # among its lexemes; a text with only 注意 or 梯度 does not match 注意事项 or 梯度累积.
    assert build_plan(parse_query(word)).tsquery() == f"'{word}'"


@pytest.mark.parametrize(
    ("word", "shorter"),
    [("注意力", "注意"), ("奖励模型", "模型"), ("位置编码", "编码"), ("混合专家", "专家")],
)
def test_a_concept_word_never_matches_through_a_shorter_word(word, shorter):
    query = build_plan(parse_query(word)).tsquery()
    assert f"'{word}'" in query and f"'{shorter}'" not in query


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("注意力", {"'attention'", "'self-attention'", "'自注意力'"}),
        ("attention", {"'注意力'", "'注意力机制'"}),
        ("MoE", {"'混合专家'", "('mixture' & 'experts')"}),
        ("mixture of experts", {"'moe'", "'混合专家'"}),
        ("RoPE", {"'旋转位置编码'", "'rotary'"}),
        ("检索增强生成", {"'rag'"}),
        ("奖励模型", {"('reward' & 'model')", "'rm'"}),
        ("attension", {"'attention'", "'注意力'"}),
    ],
)
def test_a_concept_name_expands_to_its_names_in_both_languages(query, names):
    plan = build_plan(parse_query(query))
    assert len(plan.groups) == 1
    rendered = plan.tsquery()
    assert all(name in rendered for name in names), rendered


def test_narrower_terms_are_found_by_the_broad_concept_not_back():
    assert "'rmsnorm'" in build_plan(parse_query("归一化")).tsquery()
    assert "'归一化'" not in build_plan(parse_query("rmsnorm")).tsquery()
    assert "'batchnorm'" not in build_plan(parse_query("rmsnorm")).tsquery()


def test_plan_of_only_single_characters_still_searches():
    assert build_plan(parse_query("层")).tsquery() == "'层'"


def test_relaxed_plan_ors_words_but_keeps_phrases_and_exclusions():
    plan = build_plan(parse_query('bert gpt "位置编码" -t5'))
    assert plan.tsquery(relaxed=True) == "('bert' | 'gpt') & '位置编码' & !'t5'"


def test_title_plan_asks_for_marked_lexemes_and_phrases_as_words():
    plan = build_plan(parse_query('bert 结尾 "位置 编码" -gpt'))
    assert plan.tsquery(in_title=True) == "'^ bert' & '^ 结尾' & ('^ 位置' & '^ 编码')"


def test_a_word_naming_a_tag_also_matches_the_tag_in_tags_only():
    plan = build_plan(parse_query("层归一化"), tag_aliases={"层归一化": "normalization"})
    assert "'^ normalization'" in plan.tsquery()
    assert "^ normalization" not in plan.highlight_terms()


def test_a_tag_that_no_concept_names_translates_through_its_other_language_names():
    plan = build_plan(
        parse_query("提示压缩"),
        tag_aliases={"提示压缩": "prompt-compression"},
        tag_names={"prompt-compression": ["提示压缩", "上下文压缩", "LLMLingua"]},
    )
    query = plan.tsquery()
    assert "'^ prompt-compression'" in query and "'prompt-compression'" in query
    assert "'llmlingua'" in query
    # Same-language aliases are often kinds of the tag (blip: blip-2, instructblip), not synonyms.
    assert "'上下文压缩'" not in query
    plan = build_plan(
        parse_query("instructblip"),
        tag_aliases={"instructblip": "blip"},
        tag_names={"blip": ["blip-2", "instructblip"]},
    )
    assert plan.tsquery() == "('instructblip' | '^ blip')"


def test_a_tag_alias_that_another_concept_names_stays_that_concepts():
    # layernorm is an alias of the tag normalization, but a concept of its own: 归一化 finds it
    # as a narrower term; rmsnorm does not find layernorm through the shared tag.
    plan = build_plan(
        parse_query("rmsnorm"),
        tag_aliases={"rmsnorm": "normalization"},
        tag_names={"normalization": ["归一化", "layernorm", "rmsnorm", "规范化"]},
    )
    assert "'layernorm'" not in plan.tsquery() and "'^ normalization'" in plan.tsquery()
    plan = build_plan(
        parse_query("归一化"),
        tag_aliases={"归一化": "normalization"},
        tag_names={"normalization": ["归一化", "layernorm", "rmsnorm", "规范化"]},
    )
    assert "'规范化'" in plan.tsquery()  # a moderator's alias extends the concept


def test_a_word_made_of_several_tokens_naming_a_tag_is_one_group():
    plan = build_plan(parse_query("大语言模型"), tag_aliases={"大语言模型": "llm"})
    assert len(plan.groups) == 1 and "'^ llm'" in plan.tsquery()


def test_corrections_become_alternatives():
    plan = build_plan(parse_query("chatgml"), corrections={"chatgml": "chatglm"})
    assert plan.tsquery() == "('chatgml' | 'chatglm')"


def test_phrase_distances_skip_stop_words():
    plan = build_plan(parse_query('"注意力机制的计算"'))
    assert plan.tsquery() == "('注意力机制' <2> '计算')"


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [("layernrom", "layernorm", 1), ("chatgml", "chatglm", 1), ("halucination", "hallucination", 1),
     ("layernrom", "layer", 4), ("", "abc", 3), ("same", "same", 0)],
)  # fmt: skip
def test_edit_distance_counts_a_swap_once(first, second, distance):
    assert search.edit_distance(first, second) == distance


def test_highlight_escapes_html_and_marks_matches_in_raw_text():
    html = search.highlight("<b>注意力機制</b> & ＲＭＳＮｏｒｍ", {"注意力机制", "rmsnorm"})
    assert html == "&lt;b&gt;<mark>注意力機制</mark>&lt;/b&gt; &amp; <mark>ＲＭＳＮｏｒｍ</mark>"


def test_english_terms_are_marked_only_as_whole_words():
    assert "<mark>" not in search.highlight("storage average", {"rag"})
    assert search.highlight("RAG 流程", {"rag"}) == "<mark>RAG</mark> 流程"


def test_snippet_starts_at_the_sentence_holding_the_match():
    text = "第一句很长很长，" * 30 + "。RMSNorm 去掉了均值。之后还有很多话" + "，更多内容" * 40
    snippet = search.snippet(text, {"rmsnorm"})
    assert snippet.startswith("…<mark>RMSNorm</mark> 去掉了均值。")
    assert snippet.endswith("…")
    assert len(snippet) < search.SNIPPET_LENGTH + 40


def test_snippet_without_a_match_is_the_beginning():
    snippet = search.snippet("开头的一句话。后面的话。", {"不存在"})
    assert snippet == "开头的一句话。后面的话。"


def test_snippet_starts_after_a_space_or_comma_near_the_match():
    text = "前" * 100 + " transformer architecture details " + "后" * 100
    assert search.snippet(text, {"architecture"}).startswith("…<mark>architecture</mark> details")


def test_snippet_never_starts_inside_an_english_word():
    text = "前" * 100 + "abcdefghijklmnopqrst注意力" + "后" * 100
    assert search.snippet(text, {"注意力"}).startswith("…abcdefghijklmnopqrst<mark>注意力</mark>")


def test_search_version_changes_with_the_dictionary(tmp_path, monkeypatch):
    dictionary = tmp_path / "dictionary.txt"
    dictionary.write_text(search.DICTIONARY_PATH.read_text(encoding="utf-8") + "新术语\n", "utf-8")
    monkeypatch.setattr(search, "DICTIONARY_PATH", dictionary)
    assert search._compute_version() != search.SEARCH_VERSION


# --- Issue 14: snippets people can read -------------------------------------------------------


def test_snippets_show_formulas_as_compact_tex_without_stray_letters():
    markdown = (
        "注意力头有自己的 $W^Q_i$，除以 $$\n\\sqrt{d_k}\n$$，不把 $n \\times n$ 的矩阵存下来。"
    )
    text = search.markdown_snippet(markdown, {"注意力"})
    assert "$W^Q_i$" in text and "$\\sqrt{d_k}$" in text and "$n \\times n$" in text
    assert " n n " not in text and " d k " not in text


def test_snippets_keep_table_rows_apart():
    markdown = (
        "| 维度 | BERT | GPT |\n|---|---|---|\n"
        "| 结构 | encoder-only | decoder-only |\n| 注意力 | 双向 | 单向 |"
    )
    assert search.snippet_text(markdown) == (
        "维度 | BERT | GPT\n结构 | encoder-only | decoder-only\n注意力 | 双向 | 单向"
    )
    assert "<mark>注意力</mark> | 双向 | 单向" in search.markdown_snippet(markdown, {"注意力"})


@pytest.mark.parametrize(
    ("raw", "terms", "expected"),
    [
        ("RLHF训练时要注意什么", {"注意力"}, "RLHF训练时要注意什么"),
        ("自注意力和注意事项", {"注意力"}, "<mark>自注意力</mark>和注意事项"),
        ("学习 embeddings 的方法", {"embedding"}, "学习 <mark>embeddings</mark> 的方法"),
        ("Self-Attention 层", {"attention"}, "<mark>Self-Attention</mark> 层"),
    ],
)
def test_the_matched_word_is_highlighted_whole_and_never_a_part_of_another(raw, terms, expected):
    assert search.highlight(raw, terms) == expected


def test_a_snippet_never_ends_inside_a_formula():
    raw = "前文" * 60 + "公式 $a + b = c$ 后文"
    text = search.snippet(raw, set(), length=121)
    assert text.count("$") % 2 == 0


def test_a_relaxed_plan_lets_the_parts_of_a_compound_stand_in():
    plan = build_plan(parse_query("缩放点积注意力"))
    assert "'注意力'" not in plan.tsquery()
    assert "'注意力'" in plan.tsquery(relaxed=True) and plan.can_relax
    assert not build_plan(parse_query("光刻机")).can_relax  # 光刻 does not tile 光刻机


def test_a_snippet_never_starts_inside_a_formula():
    raw = (
        "FlashAttention：分块计算 + 在线 softmax，不把 $n\\times n$ 注意力矩阵写回显存，结果精确。"
    )
    text = search.snippet(raw, {"注意力"}, length=60)
    assert "$n\\times n$" in text and text.count("$") == 2
