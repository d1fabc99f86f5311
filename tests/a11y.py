"""axe-core on every page the browser tests visit.

The `browser` fixture of tests/test_browser.py hands out an `AuditedBrowser`: each context it makes
records the URLs its pages navigate to, and keeps its cookies when the test closes it. When the test
ends (before its database is flushed), `audit()` opens every recorded URL again, once as the test's
user (signed in when the test was) and once signed out, and runs axe-core there at phone and desktop
width in light and dark colour schemes. Any violation of any rule axe runs by default (WCAG 2.x A/AA
and best practices) fails the test, with the rule, the page and the offending elements.

axe-core is the npm package pinned in tools/a11y/package.json (`npm ci` there; `make setup` does
it).
Without it the audit is skipped with a message, unless CI is set, where a missing axe fails, as a
missing chromium does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError

AXE_JS = Path(settings.BASE_DIR) / "tools" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
AUDIT_WIDTHS = {"phone": 390, "desktop": 1280}
COLOR_SCHEMES = ("light", "dark")

# Runs in the page; returns the violations only, trimmed to what a failure message needs.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_source() -> str | None:
    """axe.min.js, or None (after skipping or failing as the environment asks) when missing."""
    if AXE_JS.exists():
        return AXE_JS.read_text(encoding="utf-8")
    return None


def axe_missing_message() -> str:
    return (
        f"{AXE_JS} is missing: run `npm ci` in tools/a11y (or `make setup`) to run the "
        "accessibility audit of the browser tests."
    )


def run_axe(page) -> list[dict]:
    """axe's violations on the page as it is now (axe must be in the page, see `AXE_INIT`)."""
    return page.evaluate(RUN_AXE)


@dataclass
class Visit:
    """One browser context of a test: the pages it went to and the session it had."""

    context: object
    urls: list[str] = field(default_factory=list)
    storage_state: dict | None = None
    closed: bool = False

    def record(self, url: str) -> None:
        url = urldefrag(url).url
        if url.startswith("http") and url not in self.urls:
            self.urls.append(url)


class AuditedBrowser:
    """A Playwright Browser whose contexts record where they go, for `audit()`."""

    def __init__(self, browser):
        self._browser = browser
        self.visits: list[Visit] = []

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        visit = Visit(context=context)
        self.visits.append(visit)

        def watch(page):
            page.on(
                "framenavigated",
                lambda frame: frame == page.main_frame and visit.record(frame.url),
            )

        context.on("page", watch)
        close = context.close

        def close_keeping_session(*args, **kwargs):
            if not visit.closed:
                visit.storage_state = context.storage_state()
                visit.closed = True
            return close(*args, **kwargs)

        context.close = close_keeping_session
        return context

    def new_page(self, **kwargs):
        """A page in a context of its own (closed with the page), as Browser.new_page does."""
        context = self.new_context(**kwargs)
        page = context.new_page()
        close_page = page.close

        def close_with_context(*args, **kwargs):
            close_page(*args, **kwargs)
            context.close()

        page.close = close_with_context
        return page

    def take_visits(self) -> list[Visit]:
        visits, self.visits = self.visits, []
        for visit in visits:
            if not visit.closed:
                visit.storage_state = visit.context.storage_state()
        return visits


def signed_in(storage_state: dict | None) -> bool:
    cookies = (storage_state or {}).get("cookies", [])
    return any(cookie["name"] == settings.SESSION_COOKIE_NAME for cookie in cookies)


def audit(browser: AuditedBrowser, visits: list[Visit], source: str) -> list[str]:
    """Run axe on every visited URL in every mode; one line per violation found."""
    found: dict[str, list[str]] = {}
    checked: set[tuple[str, str]] = set()
    for visit in visits:
        sessions = [("signed out", None)]
        if signed_in(visit.storage_state):
            sessions.insert(0, ("signed in", visit.storage_state))
        for who, state in sessions:
            urls = [url for url in visit.urls if (json.dumps(state), url) not in checked]
            if not urls:
                continue
            checked.update((json.dumps(state), url) for url in urls)
            context = browser._browser.new_context(
                storage_state=state, viewport={"width": AUDIT_WIDTHS["desktop"], "height": 900}
            )
            # An init script is injected through the DevTools protocol: a Content-Security-Policy
            # that forbids inline scripts does not apply to it.
            context.add_init_script(script=source)
            page = context.new_page()
            try:
                for url in urls:
                    try:
                        response = page.goto(url)
                    except PlaywrightError:  # e.g. a POST-only address answering 405, empty
                        continue
                    if response is None or "text/html" not in (
                        response.headers.get("content-type") or ""
                    ):
                        continue
                    for width_name, width in AUDIT_WIDTHS.items():
                        page.set_viewport_size({"width": width, "height": 900})
                        for scheme in COLOR_SCHEMES:
                            page.emulate_media(color_scheme=scheme)
                            for violation in run_axe(page):
                                nodes = ", ".join(node["target"] for node in violation["nodes"])
                                problem = (
                                    f"{page.url} [{who}] {violation['id']} "
                                    f"({violation['impact']}): {violation['help']}: {nodes}"
                                )
                                if problem not in found:
                                    found[problem] = [violation["nodes"][0]["summary"]]
                                found[problem].append(f"{width_name} {scheme}")
            finally:
                context.close()
    return [
        f"{problem}\n    {summary}\n    in: {', '.join(modes)}"
        for problem, (summary, *modes) in found.items()
    ]


def audit_or_skip(browser: AuditedBrowser) -> None:
    """The teardown of a browser test: audit its pages, fail on violations."""
    visits = browser.take_visits()
    if not visits:
        return
    source = axe_source()
    if source is None:
        if os.environ.get("CI"):
            pytest.fail(axe_missing_message())
        # A warning rather than a skip: the test itself has passed.
        import warnings

        warnings.warn(axe_missing_message(), stacklevel=1)
        return
    problems = audit(browser, visits, source)
    if problems:
        pytest.fail(
            f"axe-core found {len(problems)} accessibility violation(s):\n" + "\n".join(problems),
            pytrace=False,
        )
