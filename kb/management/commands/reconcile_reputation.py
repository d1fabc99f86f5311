from django.core.management.base import BaseCommand, CommandError

from kb.services.reputation import reputation_reconcile


class Command(BaseCommand):
    help = (
        "Recompute every question and answer score from the votes and every reputation from the "
        "ledger, and report each difference (there should be none). Exits with status 1 when it "
        "finds one, unless --fix stores the recomputed values."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="store the recomputed values")

    def handle(self, *args, fix: bool = False, **options):
        differences = reputation_reconcile(fix=fix)
        for difference in differences:
            self.stdout.write(str(difference))
        if not differences:
            self.stdout.write("No differences: every score and reputation agrees with the rows.")
        elif fix:
            self.stdout.write(f"Fixed {len(differences)} differences.")
        else:
            raise CommandError(f"{len(differences)} differences (run with --fix to repair).")
