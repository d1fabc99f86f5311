"""E-mail: instant mails and daily digests by `send_notifications`, idempotent and safe in
parallel; a signed one-click unsubscribe link; bodies in the member's language."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from notifications.mail import notifications_send, unsubscribe_token
from notifications.models import Notification, NotificationSettings
from notifications.services import notification_settings_set
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


class RefusingBackend:
    """An SMTP server that refuses every mail."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def asker_with(mode: str, language: str = ""):
    asker = UserFactory(preferred_language=language)
    notification_settings_set(actor=asker, email_mode=mode, hide_ignored=False)
    return asker


def answered(asker, times: int = 1):
    question = question_make(author=asker)
    for _ in range(times):
        answer_make(question=question)
    return question


def test_instant_mail_is_sent_once_and_marks_its_rows():
    asker = asker_with("instant")
    answered(asker, times=2)
    call_command("send_notifications")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [asker.email]
    assert "/inbox/" in message.body and "#answer-" in message.body
    assert not Notification.objects.filter(recipient=asker, mailed_at=None).exists()
    call_command("send_notifications")  # idempotent
    assert len(mail.outbox) == 1


def test_members_without_e_mail_get_none_and_older_rows_are_not_mailed_later():
    asker = UserFactory()
    answered(asker)  # default: no e-mail
    assert notifications_send() == 0
    notification_settings_set(actor=asker, email_mode="instant", hide_ignored=False)
    assert notifications_send() == 0  # what came before the switch stays unmailed
    answered(asker)
    assert notifications_send() == 1
    assert mail.outbox[0].body.count("#answer-") == 1


def test_the_daily_digest_comes_once_a_day():
    asker = asker_with("daily")
    answered(asker, times=3)
    assert notifications_send() == 1
    assert mail.outbox[0].body.count("#answer-") == 3
    answered(asker)
    assert notifications_send() == 0  # not a day yet
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert notifications_send(now=later) == 1
    assert mail.outbox[1].body.count("#answer-") == 1


def test_mail_is_in_the_members_language():
    english, chinese = asker_with("instant", "en"), asker_with("instant", "zh-hans")
    answered(english)
    answered(chinese)
    notifications_send()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "new inbox items" in by_recipient[english.email].subject
    assert "new inbox items" not in by_recipient[chinese.email].subject
    assert "answered" in by_recipient[english.email].body
    assert "/en/unsubscribe/" in by_recipient[english.email].body  # links in their language too
    assert "/en/" not in by_recipient[chinese.email].body


def test_every_mail_has_a_signed_one_click_unsubscribe(client):
    asker = asker_with("instant")
    answered(asker)
    notifications_send()
    message = mail.outbox[0]
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    path = url.split("http://127.0.0.1:8000", 1)[1]
    assert client.get(path).status_code == 200  # a confirmation page; nothing changes yet
    assert NotificationSettings.objects.get(user=asker).email_mode == "instant"
    assert client.post(path).status_code == 200  # no login, no CSRF token needed
    assert NotificationSettings.objects.get(user=asker).email_mode == "none"
    assert client.post(path).status_code == 410  # once per setting change


def test_an_unsubscribe_link_dies_when_the_setting_changes_and_forgeries_fail(client):
    asker = asker_with("instant")
    old = unsubscribe_token(user_id=asker.pk, version=asker.notification_settings.version)
    notification_settings_set(actor=asker, email_mode="daily", hide_ignored=False)
    assert client.post(f"/unsubscribe/{old}/").status_code == 410
    assert NotificationSettings.objects.get(user=asker).email_mode == "daily"
    forged = old[:-3] + ("abc" if not old.endswith("abc") else "xyz")
    assert client.post(f"/unsubscribe/{forged}/").status_code == 400
    assert client.get(f"/unsubscribe/{forged}/").status_code == 400


def test_a_refused_mail_gives_its_rows_back_and_the_next_run_sends_them(settings):
    asker = asker_with("instant")
    answered(asker)
    settings.EMAIL_BACKEND = "tests.notifications.test_mail.RefusingBackend"
    with pytest.raises(CommandError):
        call_command("send_notifications")
    assert Notification.objects.filter(recipient=asker, mailed_at=None).count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_notifications")
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_rows_another_run_holds_are_skipped_not_sent_twice():
    asker = asker_with("instant")
    answered(asker)
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_run():
        # Another send_notifications in the middle of its claim: it holds the rows' locks.
        try:
            with transaction.atomic():
                list(Notification.objects.select_for_update().filter(recipient=asker))
                holding.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(10)
    assert notifications_send() == 0  # skipped, not waited for and not sent
    release.set()
    done.wait(10)
    thread.join()
    assert notifications_send() == 1
    assert notifications_send() == 0
    assert len(mail.outbox) == 1


def test_the_claim_marks_rows_in_the_claiming_transaction():
    """A run that dies after its claim committed never sends those rows again."""
    from notifications.mail import Due, _claim

    asker = asker_with("instant")
    answered(asker)
    claimed = _claim(Due(user_id=asker.pk, mode="instant"), timezone.now())
    assert claimed is not None  # ... and then the process dies before sending
    assert notifications_send() == 0
    assert mail.outbox == []
