"""E-mail for inbox items: instant mails and daily digests, sent by `manage.py
send_notifications`.

Idempotent and safe to run every minute, in parallel too: per member, one transaction claims the
due rows with SELECT … FOR UPDATE SKIP LOCKED and marks them (`mailed_at`) before it commits; the
mail is sent after the commit. A run that crashes after the commit has marked rows that it may not
have sent, but never sends a row twice. A mail the backend refuses (an SMTP error) unmarks its
rows in a new transaction, so the next run tries again.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Notification, NotificationSettings
from notifications.selectors import notification_url

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
MAIL_WINDOW = timedelta(days=2)  # older unmailed rows are not mailed any more
DIGEST_EVERY = timedelta(days=1)
ROWS_PER_MAIL = 50
Mode = NotificationSettings.EmailMode


def unsubscribe_token(*, user_id: int, version: int) -> str:
    return signing.dumps([user_id, version], salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_token_read(token: str) -> tuple[int, int]:
    """(user id, settings version) of a signed token; ValidationError when it is not ours.
    Tokens never expire: changing the setting makes them void."""
    try:
        user_id, version = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(user_id), int(version)
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise ValidationError({"token": _("This unsubscribe link is not valid.")}) from error


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _language_of(user) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


@dataclass
class Due:
    user_id: int
    mode: str


def _due_members(now) -> list[Due]:
    """Members with unmailed rows in the window whose mail is due: instant ones always, digest
    ones a day after their last digest."""
    digest_due = Q(recipient__notification_settings__last_digest_at__isnull=True) | Q(
        recipient__notification_settings__last_digest_at__lte=now - DIGEST_EVERY
    )
    rows = Notification.objects.filter(mailed_at__isnull=True, created_at__gte=now - MAIL_WINDOW)
    rows = rows.filter(created_at__gte=F("recipient__notification_settings__changed_at")).filter(
        Q(recipient__notification_settings__email_mode=Mode.INSTANT)
        | (Q(recipient__notification_settings__email_mode=Mode.DAILY) & digest_due)
    )
    pairs = rows.values_list("recipient_id", "recipient__notification_settings__email_mode")
    return [Due(user_id=u, mode=m) for u, m in sorted(set(pairs))]


def _claim(due: Due, now) -> tuple[list[Notification], object] | None:
    """In one transaction: lock this member's due rows (skipping rows another run holds), mark
    them mailed, and for a digest stamp the settings row. Returns the rows and the member."""
    with transaction.atomic():
        settings_row = (
            NotificationSettings.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(user_id=due.user_id, email_mode=due.mode)
            .first()
        )
        if settings_row is None:  # another run holds it, or the member changed the setting
            return None
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                recipient_id=due.user_id,
                mailed_at__isnull=True,
                created_at__gte=max(now - MAIL_WINDOW, settings_row.changed_at),
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:ROWS_PER_MAIL]
        )
        if not ids:
            return None
        Notification.objects.filter(pk__in=ids).update(mailed_at=now)
        if due.mode == Mode.DAILY:
            settings_row.last_digest_at = now
            settings_row.save(update_fields=["last_digest_at"])
    rows = list(
        Notification.objects.filter(pk__in=ids)
        .select_related("actor", "question", "revision")
        .order_by("created_at", "pk")
    )
    return rows, settings_row


def mail_build(*, user, version: int, rows: list[Notification], digest: bool):
    """The mail for `rows`, in the member's language, with a signed unsubscribe link."""
    token = unsubscribe_token(user_id=user.pk, version=version)
    with translation.override(_language_of(user)):
        unsubscribe_url = absolute(reverse("notifications:unsubscribe", kwargs={"token": token}))
        items = [{"notification": n, "url": absolute(notification_url(n))} for n in rows]
        context = {
            "user": user,
            "items": items,
            "digest": digest,
            "unsubscribe_url": unsubscribe_url,
            "inbox_url": absolute(reverse("notifications:inbox")),
            "settings_url": absolute(reverse("notifications:settings")),
        }
        subject = (
            _("Mianjing: your daily digest (%(n)d items)") % {"n": len(rows)}
            if digest
            else _("Mianjing: %(n)d new inbox items") % {"n": len(rows)}
        )
        body = render_to_string("notifications/email/notifications.txt", context)
        html = render_to_string("notifications/email/notifications.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def notifications_send(*, now=None) -> int:
    """Send every mail that is due; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    failures: list[Exception] = []
    connection = get_connection()
    for due in _due_members(now):
        claimed = _claim(due, now)
        if claimed is None:
            continue
        rows, settings_row = claimed
        user = settings_row.user
        if not user.email or not user.is_active:
            continue  # claimed and dropped: there is nowhere to send them
        message = mail_build(user=user, version=settings_row.version, rows=rows,
                             digest=due.mode == Mode.DAILY)  # fmt: skip
        message.connection = connection
        try:
            message.send()
        except Exception as error:
            # Not sent: give the rows back to the next run; go on with the other members.
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(mailed_at=None)
            logger.exception("mail to member %s failed", user.pk)
            failures.append(error)
            continue
        sent += 1
    if failures:
        raise MailFailed(sent=sent, failures=len(failures))
    return sent


class MailFailed(Exception):
    def __init__(self, *, sent: int, failures: int):
        super().__init__(f"sent {sent} mails; {failures} failed and will be retried")
        self.sent = sent
        self.failures = failures
