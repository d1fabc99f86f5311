"""Issue 14: whole words, the bilingual concept lexicon, ranking that reads the question, honest
partial results, and where the lexicon shows (ask page, tag page). Real database, real HTTP."""

import re

import pytest

from kb.models import Question
from kb.services.tags import tag_upsert
from tests.factories import question_make
from tests.kb.test_search_api import api_search, fresh_throttles, ids  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def complete_ids(body) -> list[int]:
    return [row["id"] for row in body["results"] if row["matches_all_terms"]]


def html_of(response) -> str:
    return response.content.decode()


# ---------- Words beat substrings ----------


@pytest.mark.parametrize(
    ("query", "about", "shares_a_shorter_word"),
    [
        ("注意力", "注意力的计算复杂度", "RLHF 训练时要注意什么"),
        ("奖励模型", "奖励模型怎么训练", "这个模型的奖励很稀疏"),
        ("位置编码", "位置编码有哪几种", "编码器的位置在哪里"),
        ("混合专家", "混合专家的路由", "请专家看看混合精度"),
    ],
)
def test_a_dictionary_word_finds_the_word_not_posts_sharing_a_shorter_one(
    api_client, query, about, shares_a_shorter_word
):
    wanted = question_make(title=about, body="正文。")
    other = question_make(title=shares_a_shorter_word, body="正文。")
    body = api_search(api_client, query)
    assert complete_ids(body) == [wanted.pk]
    # Far below: at most a partial match (through a part of the word), after the word itself.
    assert other.pk not in ids(body) or ids(body).index(other.pk) > ids(body).index(wanted.pk)


def test_single_shared_characters_do_not_match(api_client):
    question_make(title="力气和意义有关吗", body="注 意 力 三个字分开写。")
    assert api_search(api_client, "注意力")["results"] == []


# ---------- The concept lexicon ----------


@pytest.mark.parametrize(
    ("query", "title", "body"),
    [
        ("注意力", "How does it scale?", "Self-attention costs O(n^2) in the sequence length."),
        ("attention", "它为什么要除以根号 d", "自注意力的打分要缩放。"),
        ("混合专家", "Sparse layers", "A mixture of experts routes each token to two experts."),
        ("MoE", "稀疏层只激活部分参数", "混合专家模型只激活部分参数。"),
        ("检索增强生成", "Pipeline", "RAG retrieves passages before generating."),
        ("reward model", "偏好数据从哪里来", "奖励模型给回答打分。"),
        ("旋转位置编码", "Long context", "RoPE rotates query and key vectors."),
        ("attension", "打分为什么要缩放", "自注意力的打分要缩放。"),  # a misspelling of the lexicon
    ],
)
def test_a_query_in_one_language_finds_posts_written_in_the_other(api_client, query, title, body):
    question = question_make(title=title, body=body)
    assert complete_ids(api_search(api_client, query)) == [question.pk]


def test_a_broad_concept_finds_its_kinds_but_not_back(api_client):
    rmsnorm = question_make(title="为什么都用 RMSNorm", body="省掉均值。")
    batchnorm = question_make(title="BatchNorm 在推理时", body="用滑动平均。")
    assert set(ids(api_search(api_client, "归一化"))) == {rmsnorm.pk, batchnorm.pk}
    assert ids(api_search(api_client, "rmsnorm")) == [rmsnorm.pk]


def test_a_moderators_tag_alias_extends_the_concept(api_client):
    tag_upsert(name="prompt-compression", description="提示压缩")
    question = question_make(title="Why LLMLingua drops tokens", body="It prunes the prompt.")
    assert api_search(api_client, "提示压缩")["results"] == []
    tag_upsert(name="prompt-compression", aliases=["提示压缩", "llmlingua"])  # the tag admin
    assert complete_ids(api_search(api_client, "提示压缩")) == [question.pk]


# ---------- Ranking that reads the question ----------


def test_a_title_naming_the_concept_beats_a_passing_mention(api_client):
    mention = question_make(title="RLHF 训练时要注意什么", body="顺便提一句注意力。" * 3)
    Question.objects.filter(pk=mention.pk).update(score=40)
    about = question_make(title="Multi-Head Attention 和 MQA 的区别", body="正文。")
    assert ids(api_search(api_client, "注意力"))[0] == about.pk


def test_a_post_about_the_concept_beats_one_mention_in_a_long_one(api_client):
    padding = "训练数据要清洗，学习率要预热，批大小要调。" * 90  # about 2,000 characters
    long_one = question_make(title="训练经验汇总", body=padding + "另外量化也可以试试。")
    Question.objects.filter(pk=long_one.pk).update(score=40)
    focused = question_make(
        title="部署经验分享一下", body="量化：权重量化到 INT4，量化误差用校准数据控制。"
    )
    assert ids(api_search(api_client, "量化")) == [focused.pk, long_one.pk]


def test_posts_with_every_word_come_before_partial_ones(api_client):
    partial = question_make(title="DPO 是什么", body="偏好优化。")
    Question.objects.filter(pk=partial.pk).update(score=40)
    both = question_make(title="对齐方法有哪几种", body="DPO 和 PPO 都可以。")
    body = api_search(api_client, "DPO PPO")
    assert ids(body) == [both.pk, partial.pk]
    assert [row["matches_all_terms"] for row in body["results"]] == [True, False]


# ---------- Honest partial results ----------


def test_partial_results_say_which_terms_they_lack(api_client, django_assert_max_num_queries):
    question = question_make(title="分布式计算的通信开销", body="算力与带宽。")
    # the usual 5, relaxing (1), fuzzy titles (2), the missing terms (1), savepoints
    with django_assert_max_num_queries(12):
        body = api_search(api_client, "量子计算 光刻机")
    assert body["relaxed"] is True and ids(body) == [question.pk]
    row = body["results"][0]
    assert row["matches_all_terms"] is False and set(row["missing_terms"]) == {"量子", "光刻机"}


def test_complete_results_have_every_term_and_nothing_missing(api_client):
    question_make(title="RAG 的流程", body="检索、重排、生成。")
    row = api_search(api_client, "rag 重排")["results"][0]
    assert row["matches_all_terms"] is True and row["missing_terms"] == []


def test_the_page_says_no_post_has_every_word_and_lists_partial_matches_apart(
    client, django_assert_max_num_queries
):
    question_make(title="分布式计算的通信开销", body="算力与带宽。")
    with django_assert_max_num_queries(14):  # the API's, and authors and tags
        response = client.get("/search/", {"q": "量子计算 光刻机"})
    html = html_of(response)
    assert "没有同时包含所有词语的结果" in html and "部分匹配" in html
    assert "0 个结果包含所有词语，1 个部分匹配" in html
    partial = html[html.index('id="partial-matches"') :]
    assert "<mark>分布式计算</mark>的通信开销" in partial  # the word that holds 计算, whole
    assert re.search(r"缺少：\s*<s>量子</s>\s*<s>光刻机</s>", partial)


def test_the_page_lists_complete_matches_before_the_partial_heading(client):
    both = question_make(title="DPO 和 PPO 的对比", body="正文。")
    partial = question_make(title="PPO 的裁剪", body="正文。")
    html = html_of(client.get("/search/", {"q": "DPO PPO"}))
    assert "没有同时包含所有词语的结果" not in html
    heading = html.index('id="partial-matches"')
    assert html.index(f"/questions/{both.pk}/") < heading < html.index(f"/questions/{partial.pk}/")


def test_a_query_with_no_match_says_so_and_suggests_tags(
    client, api_client, django_assert_max_num_queries
):
    tag_upsert(name="rag", aliases=["检索增强生成"])
    question_make(title="RAG 的流程", body="检索。", tags=("rag",))
    # planner, tags, ranked ids, relaxed ids, fuzzy titles (2), suggested tags, savepoints
    with django_assert_max_num_queries(10):
        html = html_of(client.get("/search/", {"q": "红烧肉 菜谱"}))
    assert "没有与“红烧肉 菜谱”匹配的结果" in html and "试试这些标签" in html
    assert 'href="/tags/rag/"' in html
    body = api_search(api_client, "红烧肉 菜谱")
    assert body["results"] == [] and "rag" in body["suggested_tags"]


def test_the_schema_declares_matches_all_terms_a_boolean(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    hit = schema["components"]["schemas"]["SearchHit"]["properties"]
    assert hit["matches_all_terms"]["type"] == "boolean"
    assert hit["missing_terms"]["type"] == "array"
    assert "matches_all_terms" in schema["components"]["schemas"]["SearchHit"]["required"]


# ---------- The ask page and the tag page ----------


def test_similar_suggests_the_tags_a_title_names_through_the_lexicon(
    api_client, django_assert_max_num_queries
):
    tag_upsert(name="attention", aliases=["注意力"])
    tag_upsert(name="rag", aliases=["检索增强生成"])
    duplicate = question_make(title="How self-attention scales", body="O(n^2).")
    with django_assert_max_num_queries(8):  # similar questions (2-4), the tags (1), savepoints
        response = api_client.get("/api/v1/search/similar/", {"title": "自注意力的复杂度和 RAG"})
    body = response.json()
    assert body["tags"] == ["attention", "rag"]
    assert [row["id"] for row in body["results"]] == [duplicate.pk]


def test_the_tag_page_lists_the_concepts_names_in_both_languages(client, django_assert_num_queries):
    tag_upsert(name="attention", description="注意力机制", aliases=["注意力", "关注度"])
    question_make(title="注意力的复杂度是多少", body="正文。", tags=("attention",))
    with django_assert_num_queries(4):  # tag, aliases, count, rows
        html = html_of(client.get("/tags/attention/"))
    block = html[html.index('class="tag-concept"') :]
    block = block[: block.index("</section>")]
    assert "这个概念的名称" in block
    for name in ("注意力机制", "自注意力", "关注度", "self-attention", "attention"):
        assert f'<span class="alias">{name}</span>' in block, name
    assert "缩放点积注意力" in block  # a kind of it


def test_a_tag_without_a_lexicon_entry_lists_its_own_names(client):
    tag_upsert(name="prompt-compression", aliases=["提示压缩", "llmlingua"])
    html = html_of(client.get("/en/tags/prompt-compression/"))
    assert (
        "Names of this concept" in html
        and '<dd lang="zh-Hans"><span class="alias">提示压缩' in html
    )
