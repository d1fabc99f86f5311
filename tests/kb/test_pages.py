"""The server-rendered read pages: content, visibility, languages, pagination and query counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from kb.models import Answer, Question
from kb.services.reputation import reputation_grant
from kb.services.revisions import revision_append
from kb.services.tags import tag_upsert
from kb.services.votes import vote_cast
from kb.templatetags.kb_pages import question_slug, question_url, timestamp
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db

FORMULA_BODY = (
    "RMSNorm 的公式:\n\n$$\n\\frac{x}{\\sqrt{\\frac{1}{d}\\sum_i x_i^2 + \\epsilon}}\n$$\n"
)


def html_of(response) -> str:
    return response.content.decode()


def question_titles(response) -> list[str]:
    return [question.title for question in response.context["page"].object_list]


def accept(question: Question, answer: Answer) -> None:
    """No accept service exists yet; set the column the way one would."""
    Question.objects.filter(pk=question.pk).update(accepted_answer=answer)


def delete_question(question: Question) -> None:
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)


def edit(post, *, author, body: str, summary: str) -> None:
    with transaction.atomic():
        locked = type(post).objects.select_for_update().get(pk=post.pk)
        extra = {}
        if isinstance(post, Question):
            extra = {"title": locked.title, "tags": [t.name for t in locked.tags.all()]}
        revision_append(post=locked, author=author, body=body, summary=summary, **extra)


# ---------- Home / question list ----------


def test_home_is_chinese_by_default_and_lists_questions(client):
    question = question_make(title="什么是 KV Cache?它为什么能加速推理?")
    response = client.get("/")
    assert response.status_code == 200
    html = html_of(response)
    assert '<html lang="zh-Hans">' in html
    assert "全部问题" in html and "最新" in html and "待回答" in html
    assert question.title in html
    assert f'href="{question_url(question)}"' in html


def test_home_is_english_under_en_prefix(client):
    question_make(title="什么是 KV Cache?它为什么能加速推理?")
    response = client.get("/en/")
    assert response.status_code == 200
    html = html_of(response)
    assert '<html lang="en">' in html
    assert "All questions" in html and "Unanswered" in html and "1 question" in html
    assert "全部问题" not in html


def test_question_row_shows_score_answers_tags_author_and_time(client):
    author = UserFactory(username="王小明", display_name="小明")
    question = question_make(author=author, tags=("llm", "attention"))
    answer = answer_make(question=question)
    accept(question, answer)
    Question.objects.filter(pk=question.pk).update(score=7)
    html = html_of(client.get("/"))
    row = html[html.index('<li class="question-row">') :]
    row = row[: row.index("</li>\n", row.index("question-row__byline"))]
    assert ">7<" in row and "票" in row
    assert "stat--accepted" in row and "✓ </span>1</span>" in row
    assert 'href="/tags/llm/"' in row and 'href="/tags/attention/"' in row
    assert 'href="/users/%E7%8E%8B%E5%B0%8F%E6%98%8E/"' in row and "小明" in row
    # The exact moment, which a cached page may hold; kb/time.js says "just now" in the browser.
    assert re.search(r"<time datetime=\"[^\"]+\"[^>]*data-relative>\d{4}年\d+月\d+日", row)


def test_home_tabs_order_and_filter(client):
    low = question_make(title="低分问题:什么是位置编码?")
    high = question_make(title="高分问题:什么是旋转位置编码?")
    answered = question_make(title="已回答的问题:什么是 ALiBi?")
    answer_make(question=answered)
    Question.objects.filter(pk=high.pk).update(score=10)
    Question.objects.filter(pk=low.pk).update(score=-2)

    top = question_titles(client.get("/?tab=top"))
    assert top[0] == high.title and top[-1] == low.title
    unanswered = question_titles(client.get("/?tab=unanswered"))
    assert answered.title not in unanswered and set(unanswered) == {low.title, high.title}
    newest = question_titles(client.get("/?tab=newest"))
    assert newest == [answered.title, high.title, low.title]
    active = question_titles(client.get("/?tab=active"))
    assert active[0] == answered.title  # the new answer moved it up
    assert question_titles(client.get("/?tab=bogus")) == newest


def test_home_paginates_thirty_per_page(client):
    for n in range(31):
        question_make(title=f"分页测试问题 {n:02d} 号")
    first = client.get("/")
    second = client.get("/?page=2")
    assert len(first.context["page"].object_list) == 30
    assert question_titles(second) == ["分页测试问题 00 号"]
    assert 'href="?page=2"' in html_of(first)
    assert "?tab=top&amp;page=2" in html_of(client.get("/?tab=top"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("abc", 1), ("", 1), ("1.5", 1), ("0", 2), ("-3", 2), ("99999999999999999999", 2), ("2", 2)],
)
def test_bad_page_numbers_give_a_real_page_never_an_error(client, raw, expected):
    for n in range(31):
        question_make(title=f"分页测试问题 {n:02d} 号")
    response = client.get("/", {"page": raw})
    assert response.status_code == 200
    assert response.context["page"].number == expected


def test_home_hides_deleted_questions_from_anonymous_but_not_from_moderators(client, moderator):
    question = question_make(title="将被删除的问题:测试一下")
    delete_question(question)
    assert question.title not in html_of(client.get("/"))
    client.force_login(moderator)
    assert question.title in html_of(client.get("/"))


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_page_cache.py
def test_home_query_count_does_not_grow_with_rows(client, django_assert_num_queries):
    question_make(title="唯一的问题:查询次数测试")
    with django_assert_num_queries(2):  # count, rows with authors and tag names
        assert client.get("/").status_code == 200
    for n in range(49):
        question_make(title=f"批量问题 {n} 号:查询次数", tags=(f"tag-{n}", "llm"))
    with django_assert_num_queries(2):
        response = client.get("/")
    assert len(response.context["page"].object_list) == 30


# ---------- Question page ----------


@pytest.fixture
def discussed_question(user, other_user):
    question = question_make(
        author=user, title="RMSNorm 和 LayerNorm 有什么区别?", body=FORMULA_BODY, tags=("llm",)
    )
    plain = answer_make(question=question, body="第一个回答:没有公式。")
    accepted = answer_make(question=question, author=other_user, body=FORMULA_BODY)
    accept(question, accepted)
    return question, plain, accepted


def test_question_page_shows_body_tags_author_and_answers_accepted_first(
    client, discussed_question
):
    question, plain, accepted = discussed_question
    response = client.get(question_url(question))
    assert response.status_code == 200
    html = html_of(response)
    assert f'<h1 id="question-title" lang="zh-Hans">{question.title}</h1>' in html
    assert "<math" in html and 'class="math-block"' in html  # body_html is not escaped
    assert "&lt;math" not in html
    assert 'href="/tags/llm/"' in html
    assert question.author.username in html and "声望" in html
    assert "2 个回答" in html and "已采纳的回答" in html
    assert html.index(f'id="answer-{accepted.pk}"') < html.index(f'id="answer-{plain.pk}"')
    assert [a.pk for a in response.context["answers"]] == [accepted.pk, plain.pk]


def test_question_page_orders_other_answers_by_score_then_age(client):
    question = question_make()
    older, newer, best = (answer_make(question=question) for _ in range(3))
    Answer.objects.filter(pk=best.pk).update(score=5)
    response = client.get(question_url(question))
    assert [a.pk for a in response.context["answers"]] == [best.pk, older.pk, newer.pk]


def test_question_page_in_english(client, discussed_question):
    question, *_ = discussed_question
    html = html_of(client.get(f"/en/questions/{question.pk}/"))
    assert "2 answers" in html and "Accepted answer" in html and "Related questions" not in html


def test_question_address_with_a_wrong_slug_redirects_to_the_canonical_one(client):
    question = question_make(title="什么是 FlashAttention?")
    assert question_slug(question.title) == "什么是-flashattention"
    response = client.get(f"/questions/{question.pk}/wrong-slug/")
    assert response.status_code == 301
    assert response["Location"] == question_url(question)
    assert client.get(f"/questions/{question.pk}/").status_code == 200
    canonical = client.get(question_url(question))
    assert canonical.status_code == 200
    assert '<link rel="canonical" href="http://testserver/questions/' in html_of(canonical)


def test_question_page_shows_edit_count_linking_to_history(client, user):
    question = question_make(author=user)
    edit(question, author=user, body="改过的正文:加上 $x^2$。", summary="补充公式")
    edit(question, author=user, body="又改了一次正文。", summary="精简")
    html = html_of(client.get(question_url(question)))
    assert "编辑过 2 次" in html
    assert f'href="/questions/{question.pk}/revisions/"' in html


def test_related_questions_share_tags(client):
    question = question_make(title="什么是 GQA 分组查询注意力?", tags=("attention", "llm"))
    related = question_make(title="MQA 和 GQA 的区别是什么?", tags=("attention",))
    unrelated = question_make(title="RAG 的检索怎么做?", tags=("rag",))
    html = html_of(client.get(question_url(question)))
    assert "相关问题" in html and related.title in html and unrelated.title not in html


def test_unknown_question_is_404_in_the_site_layout(client):
    response = client.get("/questions/987654/")
    assert response.status_code == 404
    assert "页面不存在" in html_of(response)


def test_deleted_question_is_gone_to_anonymous_and_other_users(client, other_user):
    """410 Gone (issue 21): search engines drop it sooner than a 404's address."""
    question = question_make()
    delete_question(question)
    assert client.get(f"/questions/{question.pk}/").status_code == 410
    client.force_login(other_user)
    assert client.get(f"/questions/{question.pk}/").status_code == 410


def test_deleted_question_is_shown_with_a_banner_to_author_and_moderator(client, user, moderator):
    question = question_make(author=user)
    delete_question(question)
    for viewer in (user, moderator):
        client.force_login(viewer)
        response = client.get(f"/questions/{question.pk}/")
        assert response.status_code == 200
        assert "这个问题已被删除。" in html_of(response)


def test_closed_as_duplicate_banner_links_to_the_original(client):
    original = question_make(title="原问题:LoRA 的原理是什么?")
    duplicate = question_make(title="重复的问题:LoRA 怎么工作?")
    Question.objects.filter(pk=duplicate.pk).update(
        status=Question.Status.CLOSED,
        close_reason=Question.CloseReason.DUPLICATE,
        duplicate_of=original,
    )
    html = html_of(client.get(f"/questions/{duplicate.pk}/"))
    assert "这个问题与已有问题重复。" in html
    assert f'href="{question_url(original)}"' in html


def test_duplicate_banner_does_not_link_to_an_original_the_viewer_cannot_see(client):
    original = question_make(title="原问题:LoRA 的原理是什么?")
    duplicate = question_make(title="重复的问题:LoRA 怎么工作?")
    Question.objects.filter(pk=original.pk).update(status=Question.Status.DELETED)
    Question.objects.filter(pk=duplicate.pk).update(
        status=Question.Status.CLOSED,
        close_reason=Question.CloseReason.DUPLICATE,
        duplicate_of=original,
    )
    html = html_of(client.get(f"/questions/{duplicate.pk}/"))
    assert "这个问题与已有问题重复。" not in html and original.title not in html
    assert "这个问题已关闭。" in html


def test_closed_and_locked_banners(client):
    closed = question_make(title="已关闭的问题:太宽泛了")
    Question.objects.filter(pk=closed.pk).update(
        status=Question.Status.CLOSED, close_reason=Question.CloseReason.OFF_TOPIC
    )
    locked = question_make(title="已锁定的问题:争议太大")
    Question.objects.filter(pk=locked.pk).update(status=Question.Status.LOCKED)
    closed_html = html_of(client.get(f"/questions/{closed.pk}/"))
    assert "这个问题已关闭。" in closed_html and "偏离主题" in closed_html
    assert "这个问题已锁定。" in html_of(client.get(f"/questions/{locked.pk}/"))


def test_deleted_answer_is_hidden_from_anonymous_and_marked_for_its_author(client, user):
    question = question_make()
    answer = answer_make(question=question, author=user, body="将被删除的回答内容。")
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    assert "将被删除的回答内容" not in html_of(client.get(f"/questions/{question.pk}/"))
    client.force_login(user)
    html = html_of(client.get(f"/questions/{question.pk}/"))
    assert "将被删除的回答内容" in html and "这个回答已被删除" in html


def voter(reputation: int = 200):
    """A member allowed to vote up and down (reputation granted, as for a trusted member)."""
    member = UserFactory()
    reputation_grant(actor=None, user=member, amount=reputation, reason="test seed")
    member.refresh_from_db()
    return member


def answers_with_votes(question: Question, count: int, *, voters) -> None:
    """`count` more answers, each voted on (up, and down by the next voter) by `voters`."""
    for _ in range(count):
        answer = answer_make(question=question)
        for n, member in enumerate(voters):
            vote_cast(actor=member, post=answer, value=1 if n % 2 == 0 else -1)


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_page_cache.py
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "member"])
def test_question_page_query_count_is_fixed_whatever_the_answers(
    client, logged_in, django_assert_num_queries
):
    question = question_make(tags=("llm", "attention", "rag"))
    question_make(tags=("llm",))
    viewer, other = voter(), voter()
    vote_cast(actor=viewer, post=question, value=1)
    answers_with_votes(question, 1, voters=[viewer, other])
    if logged_in:
        client.force_login(viewer)
    # question + author + tag names, answers + authors, comments + authors, related questions;
    # a member: + session, user, the viewer's votes on the page (one query), moderator group
    # check, pending suggested edits on the page, the follow/bookmark state, the unread count;
    # anonymous: + the ETag's validator (one query that lets a repeat visit answer 304,
    # kb.conditional)
    queries = 11 if logged_in else 5
    # ranking the related questions when they are not cached: a savepoint and its release, the
    # planner settings, the ranking
    uncached = queries + 4
    with django_assert_num_queries(uncached):
        response = client.get(f"/questions/{question.pk}/")
    assert response.status_code == 200
    answers_with_votes(question, 29, voters=[viewer, other])
    cache.clear()
    with django_assert_num_queries(uncached):
        client.get(f"/questions/{question.pk}/")
    with django_assert_num_queries(queries):
        response = client.get(f"/questions/{question.pk}/")
    assert len(response.context["answers"]) == 30
    assert len({a.author_id for a in response.context["answers"]}) == 30
    expected = 1 if logged_in else None
    assert {a.viewer_vote for a in response.context["answers"]} == {expected}
    assert response.context["question"].viewer_vote == expected


def test_question_page_query_count_for_a_logged_in_member(
    client, user, settings, django_assert_num_queries
):
    settings.MEMBER_PAGE_CACHE_ENABLED = False  # the render's cost (tests/kb/test_member_pages.py)
    question = question_make()
    question_make()  # a related question
    for _ in range(5):
        answer_make(question=question)
    client.force_login(user)
    # + session, user, viewer's votes, moderator group check, pending suggested edits on the page;
    # follow/bookmark state, unread count; the related questions are cached after the first request
    assert client.get(f"/questions/{question.pk}/").status_code == 200
    with django_assert_num_queries(11):
        assert client.get(f"/questions/{question.pk}/").status_code == 200
    for _ in range(25):
        answer_make(question=question)
    with django_assert_num_queries(11):
        assert client.get(f"/questions/{question.pk}/").status_code == 200


# ---------- History ----------


def test_question_history_lists_revisions_with_rendered_content(client, user, other_user):
    question = question_make(author=user, body="第一版正文。")
    edit(question, author=other_user, body="第二版:$E = mc^2$", summary="加上公式")
    response = client.get(f"/questions/{question.pk}/revisions/")
    assert response.status_code == 200
    html = html_of(response)
    assert "第 1 版" in html and "第 2 版" in html and "2 个版本" in html
    assert "加上公式" in html and "没有编辑说明。" in html
    assert "第一版正文。" in html and "<math" in html
    assert other_user.username in html and "已通过" in html
    assert html.index("第 2 版") < html.index("第 1 版")  # newest first


def test_answer_history(client, user):
    question = question_make()
    answer = answer_make(question=question, author=user, body="回答第一版。")
    edit(answer, author=user, body="回答第二版。", summary="改错字")
    html = html_of(client.get(f"/answers/{answer.pk}/revisions/"))
    assert "回答的修订历史" in html and "回答第一版。" in html and "改错字" in html
    assert f'href="{question_url(question)}#answer-{answer.pk}"' in html
    assert "编辑过 1 次" in html_of(client.get(question_url(question)))


def test_history_pages_404_for_unknown_or_hidden_posts(client):
    assert client.get("/questions/987654/revisions/").status_code == 404
    assert client.get("/answers/987654/revisions/").status_code == 404
    question = question_make()
    answer = answer_make(question=question)
    delete_question(question)
    assert client.get(f"/questions/{question.pk}/revisions/").status_code == 404
    assert client.get(f"/answers/{answer.pk}/revisions/").status_code == 404
    other = answer_make(question=question_make())
    Answer.objects.filter(pk=other.pk).update(is_deleted=True)
    assert client.get(f"/answers/{other.pk}/revisions/").status_code == 404


def test_history_query_count_is_bounded(client, user, django_assert_num_queries):
    question = question_make(author=user)
    answer = answer_make(question=question, author=user)
    for n in range(6):
        edit(question, author=UserFactory(), body=f"第 {n} 次修改", summary=f"修改 {n}")
        edit(answer, author=UserFactory(), body=f"回答第 {n} 次修改", summary=f"修改 {n}")
    # question + author + tag names, revisions + authors, the public moderation timeline
    with django_assert_num_queries(3):
        assert client.get(f"/questions/{question.pk}/revisions/").status_code == 200
    with django_assert_num_queries(3):  # answer + question + author, revisions + authors, timeline
        assert client.get(f"/answers/{answer.pk}/revisions/").status_code == 200


# ---------- Tags ----------


def test_tag_list_shows_counts_descriptions_and_aliases(client):
    tag_upsert(name="normalization", description="归一化层", aliases=["层归一化", "rmsnorm"])
    question_make(tags=("normalization",))
    question_make(tags=("normalization",))
    question_make(tags=("rag",))
    response = client.get("/tags/")
    html = html_of(response)
    assert response.status_code == 200
    assert "归一化层" in html and "层归一化" in html and "2 个问题" in html
    assert [t.name for t in response.context["page"].object_list][:2] == ["normalization", "rag"]
    by_name = client.get("/tags/?sort=name")
    assert [t.name for t in by_name.context["page"].object_list] == ["normalization", "rag"]
    assert "Aliases:" in html_of(client.get("/en/tags/"))


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_page_cache.py
def test_tag_list_query_count(client, django_assert_num_queries):
    for n in range(3):
        tag_upsert(name=f"topic-{n}", description="主题", aliases=[f"别名{n}"])
    with django_assert_num_queries(3):  # count, tags, aliases
        assert client.get("/tags/").status_code == 200
    for n in range(3, 40):
        tag_upsert(name=f"topic-{n}", description="主题", aliases=[f"别名{n}", f"alias{n}"])
    with django_assert_num_queries(3):
        assert client.get("/tags/").status_code == 200


def test_tag_page_lists_only_its_questions(client):
    tag_upsert(name="rag", description="检索增强生成", aliases=["检索增强生成"])
    tagged = question_make(title="RAG 的重排怎么做?", tags=("rag",))
    other = question_make(title="什么是 MoE 混合专家?", tags=("llm",))
    response = client.get("/tags/rag/")
    assert response.status_code == 200
    html = html_of(response)
    assert tagged.title in html and other.title not in html
    assert "检索增强生成" in html and "1 个问题" in html


def test_tag_alias_redirects_to_the_tag(client):
    tag_upsert(name="rag", aliases=["检索增强生成"])
    response = client.get("/tags/检索增强生成/")
    assert response.status_code == 301 and response["Location"] == "/tags/rag/"
    response = client.get("/en/tags/RAG/")
    assert response.status_code == 301 and response["Location"] == "/en/tags/rag/"


def test_unknown_tag_is_404(client):
    assert client.get("/tags/no-such-tag/").status_code == 404


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_page_cache.py
def test_tag_page_query_count(client, django_assert_num_queries):
    question_make(tags=("llm",))
    with django_assert_num_queries(4):  # tag, aliases, count, rows with tag names
        assert client.get("/tags/llm/").status_code == 200
    for n in range(40):
        question_make(tags=("llm", f"extra-{n}"))
    with django_assert_num_queries(4):
        assert client.get("/tags/llm/").status_code == 200


# ---------- Users ----------


def test_user_page_with_a_chinese_username(client):
    member = UserFactory(username="李雷", display_name="李雷老师", bio="大模型算法工程师。")
    question = question_make(author=member, title="李雷的问题:如何评估大模型?")
    answered = question_make(title="别人的问题:什么是 DPO?")
    answer_make(question=answered, author=member)
    response = client.get("/users/李雷/")
    assert response.status_code == 200
    html = html_of(response)
    assert "李雷老师" in html and "大模型算法工程师。" in html and "声望" in html
    assert "加入于" in html
    assert question.title in html and answered.title in html


def test_user_page_hides_deleted_questions_from_others(client):
    member = UserFactory(username="hanmeimei")
    question = question_make(author=member, title="被删除的问题:不该出现在主页")
    delete_question(question)
    assert question.title not in html_of(client.get("/users/hanmeimei/"))
    client.force_login(member)
    assert question.title in html_of(client.get("/users/hanmeimei/"))


def test_user_page_redirects_other_case_and_404s_unknown(client):
    UserFactory(username="Alice")
    response = client.get("/users/alice/")
    assert response.status_code == 301 and response["Location"] == "/users/Alice/"
    assert client.get("/users/nobody-here/").status_code == 404


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_page_cache.py
def test_user_page_query_count(client, django_assert_num_queries):
    member = UserFactory(username="busy")
    fan = voter()
    vote_cast(actor=fan, post=question_make(author=member), value=1)
    answer_make(question=question_make(), author=member)
    # user, moderator group (for the role badge), questions count + rows with tag names,
    # answers count + rows with questions, ledger count + rows + the questions they point at
    with django_assert_num_queries(9):
        assert client.get("/users/busy/").status_code == 200
    for _ in range(20):
        question_make(author=member, tags=("llm", "rag"))
        vote_cast(actor=fan, post=answer_make(question=question_make(), author=member), value=1)
    with django_assert_num_queries(9):
        response = client.get("/users/busy/")
    assert len(response.context["question_page"].object_list) == 15
    assert response.context["answer_page"].paginator.count == 21
    assert 'id="user-reputation"' in html_of(response)


# ---------- Search ----------


def test_search_finds_questions_by_title_or_body_with_every_term(client):
    by_title = question_make(title="RMSNorm 和 LayerNorm 的区别", body="正文一")
    by_body = question_make(title="归一化层的问题", body="为什么 LLaMA 用 RMSNorm?")
    question_make(title="完全无关的问题:RAG", body="检索")
    response = client.get("/search/", {"q": "rmsnorm"})
    assert response.status_code == 200
    assert set(question_titles(response)) == {by_title.title, by_body.title}
    assert "2 个" in html_of(response)
    assert question_titles(client.get("/search/", {"q": "RMSNorm LLaMA"}))[0] == by_body.title


def test_search_without_a_query_shows_the_form(client):
    response = client.get("/search/")
    assert response.status_code == 200
    assert response.context["page"] is None
    assert 'name="q"' in html_of(response)


def test_search_hides_deleted_questions(client):
    question = question_make(title="被删除的搜索目标问题")
    delete_question(question)
    assert question_titles(client.get("/search/", {"q": "搜索目标"})) == []


# ---------- Accounts, layout and language ----------


def test_login_page_and_header_for_a_logged_in_member(client):
    UserFactory(username="zhangsan", display_name="张三")
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "登录" in html_of(page) and "用户名" in html_of(page)
    response = client.post(
        "/accounts/login/",
        {"username": "zhangsan", "password": "correct horse battery staple"},
        follow=True,
    )
    html = html_of(response)
    assert "张三" in html and 'action="/accounts/logout/"' in html and 'method="post"' in html
    client.post("/accounts/logout/")
    assert "张三" not in html_of(client.get("/"))


def test_login_with_a_wrong_password_shows_an_error(client):
    UserFactory(username="lisi")
    response = client.post("/accounts/login/", {"username": "lisi", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="banner banner--danger"' in html_of(response)


def test_layout_has_skip_link_language_switch_licence_and_no_inline_code(client):
    html = html_of(client.get("/"))
    assert 'class="skip-link" href="#main"' in html
    assert 'href="/language/en/?next=/"' in html
    assert "CC BY-SA 4.0" in html
    # Scripts come from static files only (a Content-Security-Policy forbids inline code).
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert '<script src="/static/kb/time.js" defer></script>' in html
    assert "style=" not in html and "<style" not in html
    assert "/static/kb/site.css" in html
    assert "/static/kb/code.css" not in html  # only pages with code or an editor link it


@pytest.mark.parametrize(
    ("language", "title", "three_days_ago"),
    [
        ("zh-hans", "2026年3月1日 02:04", "3\xa0日前"),
        ("en", "March 1, 2026, 2:04 a.m.", "3\xa0days ago"),
    ],
)
def test_timestamp_says_when_in_the_local_time_zone(language, title, three_days_ago):
    moment = datetime(2026, 2, 28, 18, 4, tzinfo=UTC)  # 02:04 the next day in Shanghai
    with translation.override(language):
        html = timestamp(moment, "muted")
        recent = timestamp(timezone.now() - timedelta(days=3, minutes=1))
        assert timestamp(None) == ""
    assert html == (
        f'<time class="muted" datetime="2026-03-01T02:04:00+08:00" title="{title}" data-relative>'
        f"{title}</time>"
    )
    # The server writes no "3 days ago" (a cached page would keep it); kb/time.js does.
    assert three_days_ago not in recent and recent.startswith("<time datetime=")
