"""The axe audit's behaviour when axe-core is not installed (tests/a11y.py): a warning on a
developer's machine, a failure in CI, as the browser tests treat a missing chromium."""

import pytest

from tests import a11y


class NoBrowser:
    """Stands in for the AuditedBrowser: one recorded visit, and no browser to open."""

    def take_visits(self):
        return [a11y.Visit(context=None, urls=["http://127.0.0.1/"])]


def test_missing_axe_warns_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(a11y, "AXE_JS", tmp_path / "axe.min.js")
    monkeypatch.delenv("CI", raising=False)
    with pytest.warns(UserWarning, match="npm ci"):
        a11y.audit_or_skip(NoBrowser())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        a11y.audit_or_skip(NoBrowser())


def test_a_test_that_visited_nothing_is_not_audited(monkeypatch, tmp_path):
    monkeypatch.setattr(a11y, "AXE_JS", tmp_path / "axe.min.js")
    monkeypatch.setenv("CI", "true")

    class Idle:
        def take_visits(self):
            return []

    a11y.audit_or_skip(Idle())  # neither fails nor warns


def test_the_pinned_axe_is_installed_where_the_audit_looks():
    if not a11y.AXE_JS.exists():
        pytest.skip(a11y.axe_missing_message())
    assert a11y.axe_source().startswith("/*! axe v4.14.1")  # tools/a11y/package.json's pin
