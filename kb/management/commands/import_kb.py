import sys
from collections.abc import Iterable, Iterator

from django.core.management.base import BaseCommand, CommandError

from kb.dump import DumpError, dump_import


def decoded_lines(raw_lines: Iterable[bytes]) -> Iterator[str]:
    """Lines split at \\n only (as JSON Lines says), decoded as UTF-8, a leading BOM dropped."""
    for number, raw in enumerate(raw_lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DumpError(f"line {number}: not UTF-8 text ({error.reason}).") from None


class Command(BaseCommand):
    help = (
        "Load a full Mianjing dump (made by export_kb) into an empty database, in one "
        "transaction. Exit code 2 and nothing written on bad input or a non-empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("input", help="dump file to read, or '-' for standard input")

    def handle(self, *args, **options):
        source = options["input"]
        try:
            if source == "-":
                counts = dump_import(decoded_lines(sys.stdin.buffer))
            else:
                try:
                    file = open(source, "rb")  # noqa: SIM115 - closed below
                except OSError as error:
                    raise DumpError(f"cannot read {source}: {error.strerror}.") from None
                with file:
                    counts = dump_import(decoded_lines(file))
        except DumpError as error:
            raise CommandError(
                f"Import refused, nothing was written: {error}", returncode=2
            ) from error
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Imported {summary}.")
