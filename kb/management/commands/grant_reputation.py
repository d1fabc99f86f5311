from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kb.services.reputation import reputation_grant


class Command(BaseCommand):
    help = (
        "Write a bonus event of N reputation to USER's ledger (seeding trusted members, migrating "
        "reputation from another site). A negative N corrects an earlier grant."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", type=int, metavar="N")
        parser.add_argument("--reason", required=True, help="shown in the user's ledger")

    def handle(self, *args, username: str, amount: int, reason: str, **options):
        user = get_user_model().objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            event = reputation_grant(actor=None, user=user, amount=amount, reason=reason)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            f"{user.username}: {event.amount:+d} ({event.reason}); reputation {user.reputation}"
        )
