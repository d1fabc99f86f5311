from django.core.management.base import BaseCommand, CommandError

from notifications.mail import MailFailed, notifications_send


class Command(BaseCommand):
    help = (
        "Mail what is due: instant inbox mails and daily digests. Idempotent; safe to run every "
        "minute (cron or the compose service `mailer`), also twice at once."
    )

    def handle(self, *args, **options):
        try:
            sent = notifications_send()
        except MailFailed as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] > 1 or sent:
            self.stdout.write(f"sent {sent} mails")
