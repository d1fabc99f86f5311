"""Which event puts what in whose inbox: written by the kb services in the event's transaction,
never for one's own action."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kb.models import Flag
from kb.services.closing import question_close, question_reopen
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.flags import flag_create, flags_resolve
from kb.services.moderation import user_suspend
from kb.services.reviews import edit_review
from kb.services.votes import answer_accept
from notifications.models import Notification, QuestionFollow
from notifications.services import (
    notification_moderator_message,
    question_follow,
    question_unfollow,
)
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import editor, member, suggest

Kind = Notification.Kind
pytestmark = pytest.mark.django_db


def inbox(user) -> list[tuple[str, int | None]]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", "actor_id"))


def test_an_answer_reaches_the_asker_and_earlier_answerers_but_not_the_answerer():
    question = question_make()
    first = UserFactory()
    answer_make(question=question, author=first)
    second = UserFactory()
    answer = answer_make(question=question, author=second)
    assert inbox(question.author) == [(Kind.ANSWER, first.pk), (Kind.ANSWER, second.pk)]
    assert inbox(first) == [(Kind.ANSWER, second.pk)]
    assert inbox(second) == []
    row = Notification.objects.get(recipient=first)
    assert (row.question_id, row.answer_id) == (question.pk, answer.pk)


def test_answering_ones_own_question_notifies_nobody():
    question = question_make()
    answer_make(question=question, author=question.author)
    assert Notification.objects.count() == 0


def test_an_unfollowed_question_sends_nothing_and_answering_does_not_refollow_it():
    question = question_make()
    question_unfollow(actor=question.author, question=question)
    answer_make(question=question)
    assert inbox(question.author) == []
    answer_make(question=question, author=question.author)  # an automatic follow again
    answer_make(question=question)
    assert inbox(question.author) == []
    question_follow(actor=question.author, question=question)
    answer_make(question=question)
    assert len(inbox(question.author)) == 1


def test_a_comment_reaches_the_posts_author_and_the_mentioned_and_makes_the_commenter_follow():
    question = question_make()
    answer = answer_make(question=question)
    commenter, named = UserFactory(), UserFactory(username="Lin_Yi")
    comment = comment_create(
        actor=commenter, post=answer, body=f"@lin_yi 看这里, @{answer.author.username} 和 @nobody"
    )
    assert inbox(answer.author) == [(Kind.COMMENT, commenter.pk)]  # not a mention as well
    assert inbox(named) == [(Kind.MENTION, commenter.pk)]
    row = Notification.objects.get(recipient=named)
    assert (row.question_id, row.answer_id, row.comment_id) == (question.pk, answer.pk, comment.pk)
    assert QuestionFollow.objects.filter(user=commenter, question=question, active=True).exists()


def test_commenting_on_ones_own_post_and_mentioning_oneself_notifies_nobody():
    question = question_make()
    comment_create(actor=question.author, post=question, body=f"@{question.author.username} 补充")
    assert Notification.objects.count() == 0


def test_a_direct_edit_by_someone_else_tells_the_author_with_the_revision():
    question = question_make()
    by = editor()
    result = post_edit(actor=by, post=question, base_revision=1, body=question.body + "\n\n更多。")
    row = Notification.objects.get(recipient=question.author)
    assert (row.kind, row.actor_id, row.revision_id) == (Kind.EDITED, by.pk, result.revision.pk)
    post_edit(actor=question.author, post=question, base_revision=2, body="作者自己改的正文。")
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("decision", "kind"),
    [("approve", Kind.SUGGESTION_APPROVED), ("reject", Kind.SUGGESTION_REJECTED),
     ("improve", Kind.SUGGESTION_IMPROVED)],
)  # fmt: skip
def test_the_suggester_hears_how_their_edit_was_reviewed(decision, kind):
    question = question_make()
    suggester = member()
    revision = suggest(question, by=suggester)
    extra = {"reason": "不准确"} if decision == "reject" else {}
    if decision == "improve":
        extra = {"body": revision.body + "\n\n润色。"}
    edit_review(actor=question.author, revision=revision, decision=decision, **extra)
    row = Notification.objects.get(recipient=suggester)
    assert (row.kind, row.actor_id, row.revision_id) == (kind, question.author.pk, revision.pk)
    if decision == "reject":
        assert row.text == "不准确"
    # The author approved it themselves: no "your post was edited" for them.
    assert inbox(question.author) == []


def test_an_approval_by_a_moderator_tells_the_author_their_post_was_edited():
    question = question_make()
    suggester, moderator = member(), moderator_create()
    revision = suggest(question, by=suggester)
    edit_review(actor=moderator, revision=revision, decision="approve")
    assert inbox(question.author) == [(Kind.EDITED, suggester.pk)]
    assert inbox(suggester) == [(Kind.SUGGESTION_APPROVED, moderator.pk)]


def test_an_accept_tells_the_answerer_but_accepting_ones_own_answer_does_not():
    question = question_make()
    answer = answer_make(question=question)
    answer_accept(actor=question.author, answer=answer)
    assert inbox(answer.author) == [(Kind.ACCEPTED, question.author.pk)]
    own = answer_make(question=question, author=question.author)
    before = Notification.objects.count()
    answer_accept(actor=question.author, answer=own)
    assert Notification.objects.count() == before


def test_closing_as_duplicate_and_reopening_tell_the_asker():
    question, original = question_make(), question_make()
    moderator = moderator_create()
    question_close(actor=moderator, question=question, reason="duplicate", duplicate_of=original.pk)
    question_reopen(actor=moderator, question=question)
    question_close(actor=moderator, question=question, reason="off_topic")
    assert [k for k, _a in inbox(question.author)] == sorted(
        [Kind.DUPLICATE, Kind.REOPENED, Kind.CLOSED]
    )


@pytest.mark.parametrize(
    ("decision", "kind"),
    [(Flag.Status.HELPFUL, Kind.FLAG_HELPFUL), (Flag.Status.DECLINED, Kind.FLAG_DECLINED)],
)
def test_flaggers_hear_whether_their_flag_was_helpful(decision, kind):
    question = question_make()
    answer = answer_make(question=question)
    flagger = member()
    flag_create(actor=flagger, target=answer, reason="inaccurate", text="公式错了")
    flags_resolve(actor=moderator_create(), target=answer, decision=decision, note="已处理")
    row = Notification.objects.get(recipient=flagger)
    assert (row.kind, row.answer_id, row.text) == (kind, answer.pk, "已处理")


def test_flaggers_hear_when_an_edit_corrected_the_flagged_post():
    question = question_make()
    answer = answer_make(question=question)
    flagger = member()
    flag_create(actor=flagger, target=answer, reason="outdated")
    post_edit(actor=answer.author, post=answer, base_revision=1, body=answer.body + "\n\n已更新。")
    row = Notification.objects.get(recipient=flagger)
    assert (row.kind, row.actor_id, row.answer_id) == (
        Kind.FLAG_HELPFUL,
        answer.author.pk,
        answer.pk,
    )


def test_a_moderator_message_and_a_suspension_reach_the_member():
    moderator, target = moderator_create(), UserFactory()
    notification_moderator_message(actor=moderator, recipient=target, text="请注意礼貌。")
    user_suspend(actor=moderator, user=target, days=1, reason="多次灌水")
    assert [n.text for n in Notification.objects.filter(recipient=target).order_by("pk")] == [
        "请注意礼貌。",
        "多次灌水",
    ]


@pytest.mark.parametrize("who", ["member", "self"])
def test_only_moderators_send_moderator_messages(who):
    sender = UserFactory()
    recipient = sender if who == "self" else UserFactory()
    with pytest.raises(PermissionDenied):
        notification_moderator_message(actor=sender, recipient=recipient, text="hi")
    assert Notification.objects.count() == 0


def test_an_empty_moderator_message_is_refused():
    with pytest.raises(ValidationError):
        notification_moderator_message(actor=moderator_create(), recipient=UserFactory(), text=" ")


def test_a_failed_event_leaves_no_notification():
    question = question_make()
    with pytest.raises(ValidationError):
        comment_create(actor=UserFactory(), post=question, body="")
    assert Notification.objects.count() == 0
