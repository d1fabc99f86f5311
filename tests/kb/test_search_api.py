"""GET /api/v1/search/, /api/v1/search/similar/ and the /search/ page, through the real database."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kb.models import Answer, Question
from kb.selectors import search as search_selectors
from kb.services.search_index import search_index_post
from kb.services.tags import tag_upsert
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def api_search(api_client, q, **params):
    response = api_client.get("/api/v1/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def ids(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def assert_error_shape(response, status: int):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_result_has_type_ids_title_snippet_score_and_urls(api_client):
    question = question_make(title="RMSNorm 和 LayerNorm 的区别", body="RMSNorm 去掉了均值。")
    body = api_search(api_client, "rmsnorm")
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    (row,) = body["results"]
    assert row["type"] == "question" and row["id"] == question.pk == row["question_id"]
    assert row["title"] == question.title
    assert row["title_html"] == "<mark>RMSNorm</mark> 和 LayerNorm 的区别"
    assert row["snippet"] == "<mark>RMSNorm</mark> 去掉了均值。"
    assert row["score"] == 0
    assert row["url"] == f"http://127.0.0.1:8000/api/v1/questions/{question.pk}/"
    assert row["html_url"].startswith(f"http://127.0.0.1:8000/questions/{question.pk}/")


def test_answers_are_searched_with_is_answer(api_client):
    question = question_make(title="LLaMA 的结构", body="问题正文")
    answer = answer_make(question=question, body="LLaMA 用 SwiGLU 激活函数。")
    row = api_search(api_client, "swiglu is:answer")["results"][0]
    assert row["type"] == "answer" and row["id"] == answer.pk and row["question_id"] == question.pk
    assert row["title"] == "LLaMA 的结构" and "<mark>SwiGLU</mark>" in row["snippet"]
    assert row["url"] == f"http://127.0.0.1:8000/api/v1/answers/{answer.pk}/"
    assert row["html_url"].endswith(f"#answer-{answer.pk}")


def test_a_question_found_through_an_answer_shows_the_answer_in_its_snippet(api_client):
    question = question_make(title="训练技巧有哪些", body="想了解一下")
    answer_make(question=question, body="可以试试 ZeRO-3 和梯度检查点。")
    row = api_search(api_client, "梯度检查点")["results"][0]
    assert row["id"] == question.pk and "<mark>梯度检查点</mark>" in row["snippet"]


def test_title_then_tag_matches_rank_before_better_scored_body_matches(api_client):
    in_body = question_make(title="一个关于训练的问题", body="这里提到了 RLHF 的细节。")
    Question.objects.filter(pk=in_body.pk).update(score=50)
    in_title = question_make(title="RLHF 的三个阶段", body="正文")
    in_tag = question_make(title="奖励模型怎么训练", body="正文", tags=["rlhf"])
    assert ids(api_search(api_client, "rlhf")) == [in_title.pk, in_tag.pk, in_body.pk]


def test_sort_by_newest_and_by_score(api_client):
    old = question_make(title="KV Cache 是什么(旧)")
    new = question_make(title="KV Cache 是什么(新)")
    Question.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=9),
                                              score=3)  # fmt: skip
    assert ids(api_search(api_client, "kv cache", sort="newest")) == [new.pk, old.pk]
    assert ids(api_search(api_client, "kv cache", sort="score")) == [old.pk, new.pk]


def test_pagination_has_count_next_and_previous(api_client):
    for number in range(7):
        question_make(title=f"量化方法第 {number} 问", body="GPTQ 与 AWQ")
    first = api_search(api_client, "量化", page_size=3)
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 3 and "page=3" in second["next"]
    assert api_client.get(second["previous"]).json()["results"] == first["results"]
    assert not set(ids(first)) & set(ids(second))
    assert_error_shape(api_client.get("/api/v1/search/", {"q": "量化", "page": 9}), 404)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("注意力 [attention]", {"tagged"}),
        ("注意力 -[attention]", {"plain", "closed_one", "accepted_one"}),
        ("注意力 user:alice", {"tagged"}),
        ("注意力 score:5", {"accepted_one"}),
        ("注意力 answers:1", {"accepted_one"}),
        ("注意力 accepted:yes", {"accepted_one"}),
        ("注意力 accepted:no", {"tagged", "plain", "closed_one"}),
        ("注意力 closed:yes", {"closed_one"}),
        ("注意力 closed:no", {"tagged", "plain", "accepted_one"}),
        ("注意力 created:2001", {"plain"}),
        ("注意力 created:..2000", set()),
        ("注意力 -稀疏", {"tagged", "closed_one", "accepted_one"}),
        ('"稀疏注意力"', {"plain"}),
        ("-稀疏 [attention]", {"tagged"}),
        ("[attention]", {"tagged"}),
        ("[no-such-tag] 注意力", set()),
        ("注意力 is:question", {"tagged", "plain", "closed_one", "accepted_one"}),
    ],
)
def test_operators_filter_results(api_client, query, expected):
    alice = UserFactory(username="alice")
    posts = {
        "tagged": question_make(author=alice, title="注意力的复杂度", tags=["attention"]),
        "plain": question_make(title="稀疏注意力是什么", tags=["llm"]),
        "closed_one": question_make(title="注意力头的数量", tags=["llm"]),
        "accepted_one": question_make(title="注意力为什么要缩放", tags=["llm"]),
    }
    Question.objects.filter(pk=posts["plain"].pk).update(
        created_at=timezone.now().replace(year=2001)
    )
    Question.objects.filter(pk=posts["closed_one"].pk).update(status=Question.Status.CLOSED)
    accepted = answer_make(question=posts["accepted_one"], body="因为点积方差")
    Question.objects.filter(pk=posts["accepted_one"].pk).update(accepted_answer=accepted, score=5)
    names = {question.pk: name for name, question in posts.items()}
    body = api_search(api_client, query)
    assert {names[pk] for pk in ids(body)} == expected


def test_user_me_means_the_viewer(api_client, user):
    mine = question_make(author=user, title="我自己的 MoE 问题")
    question_make(title="别人的 MoE 问题")
    api_client.force_authenticate(user)
    assert ids(api_search(api_client, "moe user:me")) == [mine.pk]


def test_deleted_posts_are_hidden_except_from_their_author_and_moderators(api_client, user):
    question = question_make(author=user, title="被删除的 DeepSpeed 问题")
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    live = question_make(title="另一个还在的问题", body="正文")
    answer = answer_make(question=live, author=user, body="被删除的回答 DeepSpeed")
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    answer.refresh_from_db()
    search_index_post(post=answer)  # what deleting an answer does
    assert api_search(api_client, "deepspeed")["count"] == 0
    assert api_search(api_client, "deepspeed is:answer")["count"] == 0
    api_client.force_authenticate(UserFactory())
    assert api_search(api_client, "deepspeed")["count"] == 0
    api_client.force_authenticate(user)
    assert ids(api_search(api_client, "deepspeed")) == [question.pk]
    assert ids(api_search(api_client, "deepspeed is:answer")) == [answer.pk]
    api_client.force_authenticate(moderator_create())
    assert ids(api_search(api_client, "deepspeed")) == [question.pk]


def test_an_answer_on_a_deleted_question_is_hidden(api_client):
    question = question_make(title="会被删除的问题")
    answer_make(question=question, body="Megatron 的张量并行")
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    assert api_search(api_client, "megatron is:answer")["count"] == 0


def test_tag_aliases_expand_the_query(api_client):
    tag_upsert(name="normalization", description="归一化", aliases=["层归一化", "LayerNorm"])
    tagged = question_make(title="Pre-Norm 与 Post-Norm", body="放在哪里", tags=["normalization"])
    assert ids(api_search(api_client, "层归一化")) == [tagged.pk]
    assert ids(api_search(api_client, "[层归一化]")) == [tagged.pk]


def test_traditional_and_full_width_queries_find_simplified_text(api_client):
    question = question_make(title="注意力机制的计算复杂度", body="Ｏ(n²) 的 RMSNorm")
    assert ids(api_search(api_client, "注意力機制")) == [question.pk]
    assert ids(api_search(api_client, "ＲＭＳＮｏｒｍ")) == [question.pk]


def test_misspelt_english_words_are_corrected(api_client):
    question = question_make(title="LayerNorm 的公式", body="均值与方差")
    body = api_search(api_client, "layernrom")
    assert ids(body) == [question.pk] and body["corrections"] == {"layernrom": "layernorm"}
    assert "<mark>LayerNorm</mark>" in body["results"][0]["title_html"]


def test_words_that_never_meet_relax_to_any_word_with_complete_matches_first(api_client):
    both = question_make(title="推理优化有哪些方法", body="vLLM 的 PagedAttention")
    one = question_make(title="vLLM 怎么部署上线", body="怎么部署")
    body = api_search(api_client, "vllm pagedattention")
    assert body["relaxed"] is True and ids(body) == [both.pk, one.pk]


def test_fuzzy_titles_fill_in_when_words_find_too_little(api_client):
    question = question_make(title="RLHF 的训练流程", body="正文")
    body = api_search(api_client, "rlfh")
    assert ids(body) == [question.pk]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"q": ""}, 400),
        ({"q": "   "}, 400),
        ({"q": "x" * 1001}, 400),
        ({"q": "rag", "sort": "password"}, 400),
        ({"q": "rag", "page": "0"}, 400),
        ({"q": "rag", "page": "abc"}, 400),
        ({"q": "rag", "page": "2"}, 404),
        ({"q": "rag", "page_size": "0"}, 400),
        ({"q": "rag", "page_size": "many"}, 400),
        ({"q": "rag", "page_size": "100000"}, 200),
        ({"q": "x" * 1000}, 200),
        ({"q": "'\\!&|():*<->"}, 200),
        ({"q": '"unterminated -[ [] score:99999999999999999999 created:0000-00'}, 200),
        ({"q": "created:2025-02-30..9999 answers:-1 accepted:maybe is:"}, 200),
        ({"q": "\x00 NUL"}, 400),
        ({"q": "-only -excluded -words"}, 200),
        ({"q": "的 是 了"}, 200),
        ({"q": "😀 \u202e ０"}, 200),
    ],
)
def test_bad_input_gets_a_clear_answer_never_a_500(api_client, params, status):
    question_make(title="RAG 的流程", body="检索、重排、生成")
    response = api_client.get("/api/v1/search/", params)
    assert response.status_code == status, response.content
    if status >= 400:
        assert_error_shape(response, status)


def test_only_excluded_words_list_everything_else(api_client):
    rag = question_make(title="RAG 的流程")
    question_make(title="BERT 的结构")
    assert ids(api_search(api_client, "-bert")) == [rag.pk]


def test_search_query_count_does_not_grow_with_rows(api_client, django_assert_num_queries):
    for _ in range(3):  # enough matches that no fallback runs
        question = question_make(title="MoE 路由 的问题", tags=["llm", "moe"])
        answer_make(question=question, body="MoE 的负载均衡")
    with CaptureQueriesContext(connection) as one:
        api_search(api_client, "moe")
    for number in range(25):
        other = question_make(title=f"MoE 第 {number} 问", tags=["llm", "moe", "routing"])
        answer_make(question=other, body="MoE 回答")
    with django_assert_num_queries(len(one)):
        body = api_search(api_client, "moe")
    assert len(body["results"]) == 28
    # (planner settings), tags named in the query, ranked ids, questions, answers for snippets
    assert len([q for q in one if "SAVEPOINT" not in q["sql"]]) == 5


def test_answer_search_query_count_does_not_grow_with_rows(api_client, django_assert_num_queries):
    for _ in range(3):
        answer_make(question=question_make(), body="Mamba 状态空间模型")
    with CaptureQueriesContext(connection) as one:
        api_search(api_client, "mamba is:answer")
    for _ in range(20):
        answer_make(question=question_make(), body="Mamba 的选择性扫描")
    with django_assert_num_queries(len(one)):
        assert len(api_search(api_client, "mamba is:answer")["results"]) == 23
    # (planner settings), tags named in the query, ranked ids, answers with their questions
    assert len([q for q in one if "SAVEPOINT" not in q["sql"]]) == 4


def test_similar_questions_for_a_new_title(api_client, django_assert_max_num_queries):
    same = question_make(title="LayerNorm 和 RMSNorm 有什么区别")
    near = question_make(title="为什么用 RMSNorm", body="正文")
    question_make(title="RAG 的流程", body="检索")
    deleted = question_make(title="RMSNorm 与 LayerNorm 的区别(已删)")
    Question.objects.filter(pk=deleted.pk).update(status=Question.Status.DELETED)
    with django_assert_max_num_queries(7):  # 4, and a savepoint around them in a test
        response = api_client.get("/api/v1/search/similar/", {"title": "RMSNorm和LayerNorm的区别"})
    results = response.json()["results"]
    assert [row["id"] for row in results] == [same.pk, near.pk]
    assert set(results[0]) == {"id", "title", "score", "answer_count", "has_accepted_answer",
                               "url", "html_url"}  # fmt: skip


@pytest.mark.parametrize("params", [{}, {"title": ""}, {"title": "？？"}, {"title": "x" * 5000}])
def test_similar_questions_with_nothing_to_go_on_is_an_empty_list(api_client, params):
    question_make(title="RAG 的流程")
    response = api_client.get("/api/v1/search/similar/", params)
    assert response.status_code == 200 and response.json() == {"results": [], "tags": []}


# ---------- The page ----------


def test_search_page_shows_highlighted_results_and_escapes_content(client):
    question = question_make(title="<script>alert(1)</script> RMSNorm 问题",
                             body="RMSNorm 用 `<img src=x>` 去掉 a < b & c 均值")  # fmt: skip
    response = client.get("/search/", {"q": "rmsnorm"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>RMSNorm</mark> 问题" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<mark>RMSNorm</mark> 用 &lt;img src=x&gt; 去掉 a &lt; b &amp; c 均值" in html
    assert f"/questions/{question.pk}/" in html


def test_search_page_shows_each_question_with_its_tags_in_name_order(client):
    three = question_make(title="Qwen 的分词器", tags=["tokenizer", "qwen", "llm"])
    one = question_make(title="Qwen 的上下文长度", tags=["long-context"])
    hits = client.get("/search/", {"q": "qwen"}).context["page"].object_list
    assert {hit.id: hit.tags for hit in hits} == {
        three.pk: ["llm", "qwen", "tokenizer"],
        one.pk: ["long-context"],
    }


def test_a_list_cut_short_says_its_count_is_a_lower_bound(client, api_client, monkeypatch):
    monkeypatch.setattr(search_selectors, "RANK_CANDIDATES", 3)
    monkeypatch.setattr(search_selectors, "MAX_RESULTS", 3)
    for number in range(5):
        question_make(title=f"Qwen 第 {number} 问", body="Qwen 用 BPE")
    for sort in ("relevance", "newest"):
        body = api_search(api_client, "qwen", sort=sort)
        assert body["count"] >= 3 and body["count_is_exact"] is False
    html = client.get("/search/", {"q": "qwen"}).content.decode()
    assert "的搜索结果至少" in html
    question_make(title="LoRA 的秩怎么选")
    assert api_search(api_client, "lora") | {"results": None} == {
        "count": 1, "count_is_exact": True, "next": None, "previous": None, "corrections": {},
        "relaxed": False, "suggested_tags": [], "results": None}  # fmt: skip


def test_search_page_and_api_give_the_same_results(client, api_client):
    for number in range(4):
        question = question_make(title=f"检索增强第 {number} 问", body=f"RAG 重排 {number}")
        Question.objects.filter(pk=question.pk).update(score=number)
    hits = client.get("/search/", {"q": "检索增强", "sort": "score"}).context["page"].object_list
    body = api_search(api_client, "检索增强", sort="score")
    assert [(h.id, str(h.snippet)) for h in hits] == [(r["id"], r["snippet"]) for r in
                                                      body["results"]]  # fmt: skip


def test_search_page_without_a_query_shows_the_syntax_help(client):
    response = client.get("/search/")
    assert response.status_code == 200 and response.context["results"] is None
    assert "is:answer" in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"q": "rag", "page": "99"}, {"q": "rag", "page": "x"}, {"q": "rag", "sort": "?"}]
)
def test_search_page_is_lenient_with_bad_parameters(client, params):
    question_make(title="RAG 的流程")
    response = client.get("/search/", params)
    assert response.status_code == 200 and len(response.context["page"].object_list) == 1


def test_search_page_query_count_is_fixed(client, django_assert_num_queries):
    for _ in range(3):
        question_make(title="Qwen 的分词器", body="Qwen 用 BPE", tags=["qwen"])
    with CaptureQueriesContext(connection) as one:
        client.get("/search/", {"q": "qwen"})
    for number in range(20):
        question_make(title=f"Qwen 第 {number} 问", body="Qwen 用 BPE", tags=["qwen", "llm"])
    with django_assert_num_queries(len(one)):
        response = client.get("/search/", {"q": "qwen"})
    assert len(response.context["page"].object_list) == 23
    # (planner settings), tags named in the query, ranked ids, questions with their tags
    assert len([q for q in one if "SAVEPOINT" not in q["sql"]]) == 4


# ---------- Related questions (for the question page) ----------


def test_related_questions_share_title_words_or_tags_and_are_cached():
    from django.contrib.auth.models import AnonymousUser

    from kb.selectors.questions import question_get
    from kb.selectors.search import related_question_list

    question = question_make(title="RMSNorm 和 LayerNorm 的区别", tags=["normalization"])
    same_words = question_make(title="为什么 LLaMA 用 RMSNorm", tags=["llama"])
    same_tag = question_make(title="BatchNorm 为什么不适合 Transformer", tags=["normalization"])
    question_make(title="RAG 的检索流程", body="召回与重排", tags=["rag"])
    deleted = question_make(title="RMSNorm 与 LayerNorm(已删)", tags=["normalization"])
    Question.objects.filter(pk=deleted.pk).update(status=Question.Status.DELETED)
    question = question_get(viewer=AnonymousUser(), pk=question.pk)
    with CaptureQueriesContext(connection) as queries:
        related = related_question_list(viewer=AnonymousUser(), question=question)
    # planner settings, ranking, what is shown of them
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 3
    assert [q.pk for q in related] == [same_words.pk, same_tag.pk]

    Question.objects.filter(pk=same_words.pk).update(status=Question.Status.DELETED)
    with CaptureQueriesContext(connection) as queries:
        related = related_question_list(viewer=AnonymousUser(), question=question)
    assert len(queries) == 1  # which ones are cached; titles and visibility are read fresh
    assert [q.pk for q in related] == [same_tag.pk]


def test_related_questions_follow_an_edit_of_the_question():
    from django.contrib.auth.models import AnonymousUser

    from kb.selectors.questions import question_get
    from kb.selectors.search import related_question_list
    from kb.services.edits import post_edit

    anonymous = AnonymousUser()
    question = question_make(title="RMSNorm 和 LayerNorm 的区别", body="归一化", tags=["llm"])
    about_rag = question_make(title="RAG 的检索流程是怎样的", body="召回与重排", tags=["rag"])

    def related_ids() -> list[int]:
        fresh = question_get(viewer=anonymous, pk=question.pk)
        return [related.pk for related in related_question_list(viewer=anonymous, question=fresh)]

    assert related_ids() == []
    post_edit(actor=question.author, post=question, title="RAG 检索和 RMSNorm 有什么关系",
              body=question.body, base_revision=question.revision_count)  # fmt: skip
    assert related_ids() == [about_rag.pk]


@pytest.mark.parametrize(
    "title", ["LLaMA 的网络结构是怎样的?", "？？？！！！…", "Why RMSNorm / LayerNorm?"]
)
def test_result_links_are_the_canonical_question_urls(api_client, title):
    from kb.templatetags.kb_pages import question_url

    question = question_make(title=title, body="独一无二的正文词 Zyzzyva")
    row = api_search(api_client, "zyzzyva")["results"][0]
    assert row["html_url"] == "http://127.0.0.1:8000" + question_url(question)
