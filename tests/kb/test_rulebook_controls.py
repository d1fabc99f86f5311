"""Controls outside the question's tool row follow the same rules as their services: the
"review it" link and the roll-back form disappear where review_refusal and rollback_refusal
refuse (a locked post, for everyone but moderators)."""

import pytest
from django.test import Client

from kb.permissions import Refused
from kb.services.edits import post_edit, revision_rollback
from kb.services.moderation import post_lock
from kb.services.reviews import edit_review
from tests.factories import answer_make, moderator_create, question_make
from tests.kb.moderation_support import member, reviewer, suggest

pytestmark = pytest.mark.django_db

BODY = "回答：RMSNorm 去掉了均值中心化，只按均方根缩放。"


def page(user, url: str) -> str:
    """The page as the rulebook draws it now: rendered anew (the writes here run inside the
    test's transaction, whose on_commit would move the member's cached page)."""
    client = Client()
    client.force_login(user)
    return client.get(url, HTTP_CACHE_CONTROL="no-cache").content.decode()


def test_the_review_link_goes_when_the_post_is_locked_and_the_service_refuses_too():
    answer = answer_make(question=question_make(), body=BODY)
    suggestion = suggest(answer, by=member(), body=BODY + "补充。")
    who = reviewer()
    url = f"/questions/{answer.question_id}/"
    assert "去审核" in page(who, url)
    post_lock(actor=moderator_create(), post=answer, reason="争议")
    assert "去审核" not in page(who, url)
    with pytest.raises(Refused) as refused:
        edit_review(actor=who, revision=suggestion, decision="approve")
    assert refused.value.code == "locked"
    assert "去审核" in page(moderator_create(), url)


def test_the_roll_back_form_goes_when_the_post_is_locked_and_the_service_refuses_too():
    author = member()
    answer = answer_make(question=question_make(), author=author, body=BODY)
    post_edit(actor=author, post=answer, base_revision=1, body=BODY + "第二版。")
    url = f"/answers/{answer.pk}/revisions/"
    assert 'class="rollback__form"' in page(author, url)
    post_lock(actor=moderator_create(), post=answer, reason="争议")
    assert 'class="rollback__form"' not in page(author, url)
    with pytest.raises(Refused) as refused:
        revision_rollback(actor=author, post=answer, to=1)
    assert refused.value.code == "locked"
    assert 'class="rollback__form"' in page(moderator_create(), url)
