"""The vote and accept buttons of the question page without JavaScript (POST forms to
kb:question_vote, kb:answer_vote, kb:answer_accept that go back to the post with a message), what
each viewer is shown, and the reputation section of the user page. The rules themselves are
tested through the services and the API in test_votes.py."""

import html as html_lib
import re
from urllib.parse import unquote

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.utils import timezone

from accounts.models import ReputationEvent
from kb.models import Answer, Question, Vote
from kb.services.reputation import next_day_start, reputation_grant
from kb.services.votes import answer_accept, vote_cast
from kb.templatetags.kb_pages import question_url
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()


def member(reputation: int = 1, **kwargs):
    """A member whose ledger gives `reputation` (a grant, like seeding a trusted member)."""
    user = UserFactory(**kwargs)
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    return user


ROLES = {
    "anonymous": lambda author: None,
    "newcomer": lambda author: member(1),
    "upvoter": lambda author: member(15),
    "downvoter": lambda author: member(125),
    "author": lambda author: author,
    "moderator": lambda author: moderator_create(),  # reputation 1: moderators hold every privilege
}


def post_of(kind: str, author=None) -> Question | Answer:
    question = question_make(author=author if kind == "question" else None)
    if kind == "question":
        return question
    return answer_make(question=question, author=author)


def back_url(post) -> str:
    if isinstance(post, Question):
        return question_url(post)
    return f"{question_url(post.question)}#answer-{post.pk}"


def vote_url(post) -> str:
    kind = "question" if isinstance(post, Question) else "answer"
    return f"/{kind}s/{post.pk}/vote/"


def score_of(post) -> int:
    post.refresh_from_db(fields=["score"])
    return post.score


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def page(response) -> str:
    return response.content.decode()


def vote_form(html: str, post) -> str:
    """The vote form of one post on the question page."""
    match = re.search(
        rf'<form class="votes" method="post" action="{vote_url(post)}".*?</form>', html, re.DOTALL
    )
    assert match, f"no vote form for {post}"
    return match.group(0)


def button(form: str, direction: str) -> dict:
    match = re.search(rf'<button [^>]*votes__button--{direction}"[^>]*>', form)
    assert match, f"no {direction} button"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', html_lib.unescape(match.group(0))))


# ---------- Voting without JavaScript: the permission matrix ----------


@pytest.mark.parametrize(
    ("role", "value", "allowed"),
    [
        ("newcomer", 1, False), ("newcomer", -1, False),
        ("upvoter", 1, True), ("upvoter", -1, False),
        ("downvoter", 1, True), ("downvoter", -1, True),
        ("author", 1, False), ("author", -1, False),
        ("moderator", 1, True), ("moderator", -1, True),
    ],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_vote_form_permission_matrix(client, kind, role, value, allowed):
    author = UserFactory()
    post = post_of(kind, author)
    client.force_login(ROLES[role](author))
    response = client.post(vote_url(post), {"value": str(value)})
    assert response.status_code == 302 and response["Location"] == back_url(post)
    assert score_of(post) == (value if allowed else 0)
    assert Vote.objects.count() == (1 if allowed else 0)
    [message] = messages_of(response)
    if allowed:
        assert message == ("你的赞成票已计入。" if value == 1 else "你的反对票已计入。")
    else:
        assert not ReputationEvent.objects.exclude(kind=Kind.BONUS).exists()
        assert message in {"投赞成票需要 15 声望。", "投反对票需要 125 声望。",
                           "不能给自己的帖子投票。"}  # fmt: skip


@pytest.mark.parametrize("kind", ["question", "answer"])
def test_anonymous_vote_goes_to_login_and_back_to_the_post(client, kind):
    post = post_of(kind)
    response = client.post(vote_url(post), {"value": "1"})
    assert response.status_code == 302
    assert unquote(response["Location"]) == f"/accounts/login/?next={back_url(post)}"
    assert not Vote.objects.exists()


def test_newcomer_is_told_the_reputation_needed_in_english(client):
    answer = post_of("answer")
    client.force_login(member(1))
    response = client.post(f"/en{vote_url(answer)}", {"value": "1"}, follow=True)
    assert "Voting up needs 15 reputation." in page(response)
    assert response.redirect_chain[-1][0].endswith(f"#answer-{answer.pk}")


def test_value_0_withdraws_the_vote_and_its_reputation(client):
    answer = post_of("answer")
    voter = member(15)
    client.force_login(voter)
    client.post(vote_url(answer), {"value": "1"})
    assert score_of(answer) == 1
    answer.author.refresh_from_db()
    assert answer.author.reputation == 10
    response = client.post(vote_url(answer), {"value": "0"})
    assert messages_of(response)[-1] == "你的投票已撤回。"
    assert score_of(answer) == 0 and not Vote.objects.exists()
    answer.author.refresh_from_db()
    assert answer.author.reputation == 1


def test_the_other_value_switches_the_vote(client):
    question = post_of("question")
    client.force_login(member(125))
    client.post(vote_url(question), {"value": "1"})
    client.post(vote_url(question), {"value": "-1"})
    assert score_of(question) == -1
    assert Vote.objects.get().value == -1


@pytest.mark.parametrize("raw", ["", "2", "up", "1.0", "+1", "--1"])
def test_bad_values_store_nothing_and_say_why(client, raw):
    question = post_of("question")
    client.force_login(member(125))
    response = client.post(vote_url(question), {"value": raw})
    assert response.status_code == 302
    assert messages_of(response) == ["投票只能是 1（赞成）或 -1（反对）。"]
    assert not Vote.objects.exists()


def test_vote_past_the_daily_limit_says_when_voting_opens_again(client, settings):
    settings.MIANJING = {**settings.MIANJING, "VOTES_PER_DAY": 2}
    client.force_login(member(125))
    answers = [post_of("answer") for _ in range(3)]
    for answer in answers[:2]:
        client.post(vote_url(answer), {"value": "1"})
    response = client.post(vote_url(answers[2]), {"value": "1"})
    message = messages_of(response)[-1]
    assert "2 票已用完" in message
    assert timezone.localtime(next_day_start()).strftime("%Y-%m-%d %H:%M") in message
    assert score_of(answers[2]) == 0


def test_vote_endpoints_take_only_post_and_404_hidden_posts(client):
    question = post_of("question")
    client.force_login(member(125))
    assert client.get(vote_url(question)).status_code == 405
    assert client.post("/questions/999999/vote/", {"value": "1"}).status_code == 404
    assert client.post("/answers/999999/vote/", {"value": "1"}).status_code == 404
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    assert client.post(vote_url(question), {"value": "1"}).status_code == 404


def test_vote_endpoint_query_count_is_bounded(client, django_assert_max_num_queries):
    answer = post_of("answer")
    client.force_login(member(125))
    with django_assert_max_num_queries(24):
        client.post(vote_url(answer), {"value": "1"})
    assert score_of(answer) == 1


# ---------- Accepting without JavaScript ----------


def accept_url(answer) -> str:
    return f"/answers/{answer.pk}/accept/"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("other member", False), ("answerer", False), ("asker", True), ("moderator", False)],
)
def test_accept_form_permission_matrix(client, role, allowed):
    asker, answerer = UserFactory(), UserFactory()
    answer = answer_make(question=question_make(author=asker), author=answerer)
    actor = {"other member": UserFactory(), "answerer": answerer, "asker": asker,
             "moderator": moderator_create()}[role]  # fmt: skip
    client.force_login(actor)
    response = client.post(accept_url(answer), {"accept": "1"})
    assert response.status_code == 302 and response["Location"] == back_url(answer)
    answer.question.refresh_from_db()
    assert answer.question.accepted_answer_id == (answer.pk if allowed else None)
    expected = "你已采纳这个回答。" if allowed else "只有提问者可以采纳回答。"
    assert messages_of(response) == [expected]


def test_anonymous_accept_goes_to_login(client):
    answer = post_of("answer")
    response = client.post(accept_url(answer), {"accept": "1"})
    assert unquote(response["Location"]) == f"/accounts/login/?next={back_url(answer)}"


def test_asker_switches_then_withdraws_the_accept(client):
    asker = UserFactory()
    question = question_make(author=asker)
    first, second = answer_make(question=question), answer_make(question=question)
    client.force_login(asker)
    client.post(accept_url(first), {"accept": "1"})
    client.post(accept_url(second), {"accept": "1"})
    question.refresh_from_db()
    assert question.accepted_answer_id == second.pk
    first.author.refresh_from_db()
    assert first.author.reputation == 1
    response = client.post(accept_url(second), {"accept": "0"})
    assert messages_of(response)[-1] == "你已撤回采纳。"
    question.refresh_from_db()
    assert question.accepted_answer_id is None


# ---------- What the question page shows ----------


def test_anonymous_visitors_get_login_links_instead_of_forms(client):
    answer = post_of("answer")
    html = page(client.get(back_url(answer.question)))
    assert 'class="votes"' in html and "data-vote-api" not in html
    hrefs = [
        unquote(href) for href in re.findall(r'class="votes__button[^"]*" href="([^"]+)"', html)
    ]
    login = f"/accounts/login/?next={question_url(answer.question)}#answer-{answer.pk}"
    assert hrefs.count(login) == 2 and len(hrefs) == 4
    assert "kb/votes.js" not in html


def test_member_sees_forms_with_their_own_vote_pressed(client):
    answer = post_of("answer")
    question = answer.question
    viewer = member(125)
    vote_cast(actor=viewer, post=answer, value=-1)
    client.force_login(viewer)
    html = page(client.get(question_url(question)))
    answer_form = vote_form(html, answer)
    assert f'data-vote-api="/api/v1/answers/{answer.pk}/vote/"' in answer_form
    assert 'name="csrfmiddlewaretoken"' in answer_form
    down, up = button(answer_form, "down"), button(answer_form, "up")
    assert down["aria-pressed"] == "true" and down["value"] == "0"  # pressing it withdraws it
    assert up["aria-pressed"] == "false" and up["value"] == "1"
    assert "aria-disabled" not in up and "aria-disabled" not in down
    assert "<span data-vote-score>-1</span>" in answer_form
    question_up = button(vote_form(html, question), "up")
    assert question_up["aria-pressed"] == "false" and question_up["value"] == "1"
    assert '<script src="/static/kb/votes.js" defer></script>' in html
    # no inline scripts (a JSON-LD data block is data, not a script: issue 21's QAPage)
    assert not re.search(r'<script(?![^>]*\b(?:src=|type="application/ld\+json"))', html)
    assert " on" + "click=" not in html


def test_buttons_say_why_they_cannot_be_used(client):
    author = UserFactory()
    question = question_make(author=author)
    own_answer = answer_make(question=question, author=author)
    newcomer = member(1)
    client.force_login(newcomer)
    form = vote_form(page(client.get(question_url(question))), question)
    up, down = button(form, "up"), button(form, "down")
    assert up["aria-disabled"] == "true" and up["title"] == "投赞成票需要 15 声望。"
    assert down["aria-disabled"] == "true" and down["title"] == "投反对票需要 125 声望。"
    client.force_login(author)
    html = page(client.get(question_url(question)))
    for post in (question, own_answer):
        up = button(vote_form(html, post), "up")
        assert up["aria-disabled"] == "true" and up["data-refusal"] == "不能给自己的帖子投票。"


def test_a_vote_can_be_withdrawn_by_a_member_who_lost_the_privilege(client):
    answer = post_of("answer")
    voter = member(15)
    vote_cast(actor=voter, post=answer, value=1)
    reputation_grant(actor=None, user=voter, amount=-15, reason="correction")
    client.force_login(voter)
    up = button(vote_form(page(client.get(question_url(answer.question))), answer), "up")
    assert up["aria-pressed"] == "true" and "aria-disabled" not in up


def test_no_js_vote_flow_uses_the_rendered_form(client):
    """Submit the form as the page renders it, follow the redirect, see the new state."""
    answer = post_of("answer")
    client.force_login(member(15))
    form = vote_form(page(client.get(question_url(answer.question))), answer)
    up = button(form, "up")
    action = re.search(r'action="([^"]+)"', form).group(1)
    response = client.post(action, {up["name"]: up["value"]}, follow=True)
    assert response.redirect_chain == [(f"{question_url(answer.question)}#answer-{answer.pk}", 302)]
    html = page(response)
    assert "你的赞成票已计入。" in html
    up = button(vote_form(html, answer), "up")
    assert up["aria-pressed"] == "true" and up["value"] == "0"
    response = client.post(action, {up["name"]: up["value"]}, follow=True)
    assert "你的投票已撤回。" in page(response) and score_of(answer) == 0


def test_only_the_asker_sees_accept_buttons(client):
    asker = UserFactory()
    question = question_make(author=asker)
    first, second = answer_make(question=question), answer_make(question=question)
    answer_accept(actor=asker, answer=second)
    client.force_login(asker)
    html = page(client.get(question_url(question)))
    assert html.count('<form class="accept"') == 2
    pressed = re.search(
        rf'action="/answers/{second.pk}/accept/".*?<button[^>]*value="0"[^>]*aria-pressed="true"',
        html,
        re.DOTALL,
    )
    assert pressed
    assert re.search(rf'action="/answers/{first.pk}/accept/".*?value="1"', html, re.DOTALL)
    assert html.index(f'id="answer-{second.pk}"') < html.index(f'id="answer-{first.pk}"')
    client.force_login(UserFactory())
    html = page(client.get(question_url(question)))
    assert '<form class="accept"' not in html
    assert html.count('class="accepted-mark"') == 1


# ---------- The user page: privileges and the reputation ledger ----------


@pytest.mark.real_privileges
def test_user_page_lists_privileges_earned_and_needed(client):
    member(130, username="mid")
    html = page(client.get("/en/users/mid/"))
    section = html[html.index('id="user-privileges"') :]
    earned = re.findall(r'class="privilege privilege--granted">.*?__label">([^<]+)<', section, re.S)
    assert earned == ["Vote up", "Flag posts", "Comment everywhere", "Vote down"]
    assert "needs 500" in section and "needs 1,000" in section
    assert "moderators" in section


def test_reputation_ledger_is_public_with_amounts_kinds_links_and_times(client):
    asker, answerer = UserFactory(username="asker"), UserFactory(username="answerer")
    question = question_make(author=asker, title="KV Cache 占多少显存?")
    answer = answer_make(question=question, author=answerer)
    vote_cast(actor=member(15), post=answer, value=1)
    answer_accept(actor=asker, answer=answer)
    html = page(client.get("/users/answerer/"))  # anonymous: the ledger is public
    ledger = html[html.index('id="user-reputation"') :]
    rows = re.findall(r'<li class="ledger__row">(.*?)</li>', ledger, re.S)
    assert len(rows) == 2
    assert ">+15<" in rows[0] and "回答被采纳" in rows[0]
    assert ">+10<" in rows[1] and "回答被赞同" in rows[1]
    assert f'href="{question_url(question)}#answer-{answer.pk}"' in rows[0]
    assert "KV Cache 占多少显存?" in rows[0] and "<time" in rows[0]


def test_reversals_say_what_they_undo(client):
    answerer = UserFactory(username="answerer")
    answer = answer_make(question=question_make(), author=answerer)
    voter = member(15)
    client.force_login(voter)
    client.post(vote_url(answer), {"value": "1"})
    client.post(vote_url(answer), {"value": "0"})
    html = page(client.get("/en/users/answerer/"))
    rows = re.findall(r'<li class="ledger__row">(.*?)</li>', html, re.S)
    assert ">-10<" in rows[0] and "Undone: answer upvoted" in rows[0]


def test_ledger_names_no_post_the_viewer_may_not_see(client):
    answerer = UserFactory(username="answerer")
    question = question_make(title="一个将被删除的问题")
    answer = answer_make(question=question, author=answerer)
    vote_cast(actor=member(15), post=answer, value=1)
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    html = page(client.get("/users/answerer/"))
    assert "一个将被删除的问题" not in html
    assert "一个已不再显示的帖子" in html
    client.force_login(moderator_create())
    assert "一个将被删除的问题" in page(client.get("/users/answerer/"))


def test_ledger_is_paginated_twenty_a_page_newest_first(client):
    target = UserFactory(username="seeded")
    for n in range(25):
        reputation_grant(actor=None, user=target, amount=n + 1, reason=f"第 {n + 1} 次奖励")
    first = page(client.get("/users/seeded/"))
    assert first.count('<li class="ledger__row">') == 20
    assert first.index("第 25 次奖励") < first.index("第 24 次奖励")
    assert "第 5 次奖励" not in first
    assert "reputation_page=2" in first
    second = page(client.get("/users/seeded/?reputation_page=2"))
    assert second.count('<li class="ledger__row">') == 5 and "第 1 次奖励" in second
