"""`make audit`: Lighthouse 12 on the eight landing pages, mobile and desktop, against the
production setup (gunicorn + whitenoise, DEBUG=0, collected static files) on a spare port.

Prints one row per page and form factor with the four category scores (performance,
accessibility, best practices, SEO), then a Markdown table for README. Lighthouse is the npm
package pinned in tools/a11y (`make setup` installs it) driving Debian's chromium.

    .venv/bin/python -m tools.audit [--only mobile|desktop] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
LIGHTHOUSE = BASE_DIR / "tools" / "a11y" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORM_FACTORS = ("mobile", "desktop")


def landing_pages() -> list[tuple[str, str]]:
    """The eight pages of issue 21: a question and a tag are the most-viewed visible ones."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser

    from kb.models import Question, Tag
    from kb.templatetags.kb_pages import question_url

    question = Question.objects.visible_to(AnonymousUser()).order_by("-score", "pk").first()
    tag = Tag.objects.order_by("-question_count", "name").first()
    if question is None or tag is None:
        sys.exit("No questions or tags: run `make db` (it loads the starter content) first.")
    return [
        ("home", "/"),
        ("question", question_url(question)),
        ("tag list", "/tags/"),
        ("tag", f"/tags/{quote(tag.name, safe='')}/"),
        ("search", "/search/?q=" + quote("注意力")),
        ("sign up", "/accounts/signup/"),
        ("log in", "/accounts/login/"),
        ("home (en)", "/en/"),
    ]


def lighthouse(url: str, form_factor: str) -> dict[str, int]:
    command = [
        shutil.which("node") or "node",
        str(LIGHTHOUSE),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=" + ",".join(CATEGORIES),
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "CHROME_PATH": CHROME},
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    scores = {name: round(100 * report["categories"][name]["score"]) for name in CATEGORIES}
    failing = [
        audit_id
        for audit_id, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        and any(
            audit_id == ref["id"]
            for name in CATEGORIES
            for ref in report["categories"][name]["auditRefs"]
            if ref.get("weight", 0) > 0
        )
    ]
    return {**scores, "failing": failing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=FORM_FACTORS, help="one form factor only")
    parser.add_argument("--json", type=Path, help="write the scores there too")
    options = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `npm ci` in tools/a11y (or `make setup`).")

    from bench.run import Server

    pages = landing_pages()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "audit-" + os.urandom(24).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "ERROR",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    log_path = Path(tempfile.gettempdir()) / "mianjing-audit-gunicorn.log"
    server = Server(env, workers=2, log_path=log_path)
    rows = []
    try:
        server.wait_ready()
        for form_factor in [options.only] if options.only else FORM_FACTORS:
            for name, path in pages:
                scores = lighthouse(server.base_url + path, form_factor)
                rows.append({"page": name, "path": path, "form_factor": form_factor, **scores})
                failing = ", ".join(scores["failing"]) or "-"
                print(
                    f"{form_factor:8} {name:10} "
                    + " ".join(f"{scores[c]:4}" for c in CATEGORIES)
                    + f"   not passed: {failing}",
                    flush=True,
                )
    finally:
        server.stop()

    print("\n| page | form factor | performance | accessibility | best practices | SEO |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['page']} | {row['form_factor']} | "
            + " | ".join(str(row[c]) for c in CATEGORIES)
            + " |"
        )
    if options.json:
        options.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
