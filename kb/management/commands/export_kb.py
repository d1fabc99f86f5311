import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kb.dump import dump_lines


class Command(BaseCommand):
    help = (
        "Export the knowledge base as a Mianjing dump (JSON Lines, docs/dump-format.md) to OUTPUT "
        "('-' for standard output). Password hashes only with --with-credentials."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "output",
            nargs="?",
            help="file to write, or '-' for standard output; with --public --gzip, default "
            "settings.PUBLIC_DUMP_PATH, the file the /data/ page offers",
        )
        parser.add_argument(
            "--gzip",
            action="store_true",
            help="gzip the file and write its size, date and SHA-256 beside it (<file>.json)",
        )
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

    def handle(
        self, *args, output, with_credentials: bool, public: bool, site_url, gzip: bool, **opts
    ):
        if public and with_credentials:
            raise CommandError("--public and --with-credentials exclude each other.", returncode=2)
        if output is None:
            if not (public and gzip):
                raise CommandError("Name the output file (or '-').", returncode=2)
            output = str(settings.PUBLIC_DUMP_PATH)
            Path(output).parent.mkdir(parents=True, exist_ok=True)
        if gzip and output == "-":
            raise CommandError("--gzip writes a file, not standard output.", returncode=2)
        site_url = site_url or (settings.SITE_URL + "/" if public else None)
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
            if gzip:
                # mtime=0: the same content gives the same bytes (and SHA-256)
                with open(partial, "wb") as raw, _gzip_writer(raw) as file:
                    for line in lines:
                        file.write(line.encode())
                        records += 1
            else:
                with partial.open("w", encoding="utf-8", newline="\n") as file:
                    for line in lines:
                        file.write(line)
                        records += 1
            if gzip:
                _write_description(partial, target, records)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Wrote {records} records to {target}.")


def _gzip_writer(raw):
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)


def description_path(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _write_description(written: Path, target: Path, records: int) -> None:
    """<file>.json: what the /data/ page shows about the file (kb.views.data)."""
    digest = hashlib.sha256()
    with written.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    from django.utils import timezone

    description = {
        "file": target.name,
        "size": written.stat().st_size,
        "sha256": digest.hexdigest(),
        "records": records,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
    }
    path = description_path(target)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(description), encoding="utf-8")
    os.replace(partial, path)
