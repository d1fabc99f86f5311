import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kb.dump import dump_lines


class Command(BaseCommand):
    help = (
        "Export the knowledge base as a Mianjing dump (JSON Lines, docs/dump-format.md) to OUTPUT "
        "('-' for standard output). Password hashes only with --with-credentials."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", help="file to write, or '-' for standard output")
        parser.add_argument(
            "--with-credentials",
            action="store_true",
            help="include password hashes (keep such a file as secret as the database)",
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="write the public dump that GET /api/v1/dump/ serves instead of the full one",
        )
        parser.add_argument(
            "--site-url", default=None, help="the site's address for the attribution header"
        )

    def handle(self, *args, output: str, with_credentials: bool, public: bool, site_url, **opts):
        if public and with_credentials:
            raise CommandError("--public and --with-credentials exclude each other.", returncode=2)
        lines = dump_lines(public=public, with_credentials=with_credentials, site_url=site_url)
        if output == "-":
            try:
                for line in lines:
                    sys.stdout.buffer.write(line.encode())
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                # The reader stopped early (`export_kb - | head`); that is not a failed export.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"The directory {target.parent} does not exist.", returncode=2)
        # Write beside the target and rename at the end: a failed export leaves no half file.
        partial = target.with_name(target.name + ".partial")
        records = -1  # the first line is the header
        try:
            with partial.open("w", encoding="utf-8", newline="\n") as file:
                for line in lines:
                    file.write(line)
                    records += 1
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Wrote {records} records to {target}.")
