"""Write limits: new members' questions and answers, and everyone's daily flags.

A limit reached raises RateLimited, a ValidationError (so a form shows its message like any other)
that also carries when to retry; the API answers it with 429 and a Retry-After header.

New members are those below NEW_MEMBER_REPUTATION: one question per
NEW_MEMBER_QUESTION_INTERVAL_SECONDS and NEW_MEMBER_ANSWERS_PER_DAY answers a day. Moderators are
exempt. Deleted posts still count, so deleting does not buy another try. A "day" is a calendar day
in TIME_ZONE, as for votes. The caller locks the member's row first (kb.services.reputation
.locking.users_lock), so two requests at once cannot both slip under a limit.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, Question
from kb.rules import rule
from kb.services.locking import users_lock
from kb.services.reputation import day_start, next_day_start


class RateLimited(ValidationError):
    """A write limit is reached until `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime, code: str = "rate_limited"):
        local = timezone.localtime(retry_at)
        when = formats.date_format(local, "Y-m-d H:i T")
        full = _("%(message)s Try again after %(time)s.") % {"message": message, "time": when}
        super().__init__({"non_field_errors": [full]})
        self.retry_at = retry_at
        self.limit_code = code
        self.text = full

    @property
    def retry_after(self) -> int:
        """Whole seconds until the write is allowed again (at least 1)."""
        return max(1, int((self.retry_at - timezone.now()).total_seconds() + 0.999))


def is_new_member(user) -> bool:
    return not permissions.is_moderator(user) and user.reputation < rule("NEW_MEMBER_REPUTATION")


def question_rate_check(*, actor, now: datetime | None = None) -> None:
    """Refuse a new member's question within the interval after their previous one."""
    if not is_new_member(actor):
        return
    users_lock(user_ids=[actor.pk])
    now = now or timezone.now()
    interval = timedelta(seconds=rule("NEW_MEMBER_QUESTION_INTERVAL_SECONDS"))
    last = (
        Question.objects.filter(author=actor, created_at__gt=now - interval)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        raise RateLimited(
            _("New members can ask one question every %(n)d minutes.")
            % {"n": interval.total_seconds() // 60},
            retry_at=last + interval,
        )


def answer_rate_check(*, actor, now: datetime | None = None) -> None:
    """Refuse a new member's answer past the day's limit."""
    if not is_new_member(actor):
        return
    users_lock(user_ids=[actor.pk])
    now = now or timezone.now()
    limit = rule("NEW_MEMBER_ANSWERS_PER_DAY")
    if Answer.objects.filter(author=actor, created_at__gte=day_start(now)).count() >= limit:
        raise RateLimited(
            _("New members can post %(n)d answers a day.") % {"n": limit},
            retry_at=next_day_start(now),
        )
