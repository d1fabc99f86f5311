#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Commands are exempt from the web requests' statement_timeout (config/settings.py); the
    # development server is a web process.
    if sys.argv[1:2] != ["runserver"]:
        os.environ.setdefault("MIANJING_COMMAND", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
