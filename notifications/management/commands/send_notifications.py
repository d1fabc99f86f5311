from django.core.management.base import BaseCommand

from notifications.mail import notifications_send


class Command(BaseCommand):
    help = (
        "Mail what is due: instant inbox mails and daily digests. Idempotent; safe to run every "
        "minute (cron or the compose service `mailer`), also twice at once."
    )

    def handle(self, *args, **options):
        sent = notifications_send()
        if options["verbosity"] > 1 or sent:
            self.stdout.write(f"sent {sent} mails")
