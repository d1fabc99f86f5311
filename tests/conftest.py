import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from tests.a11y import audit_or_skip
from tests.factories import UserFactory, moderator_create


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """The test process is a web process, so settings give its connections the per-request
    statement_timeout; creating and dropping the test database must not be cut short by it
    (an interrupted DROP DATABASE leaves an invalid database). tests/kb/test_request_limits.py
    tests the timeout on connections of its own."""
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {})
    options["options"] = options.get("options", "").replace(settings.STATEMENT_TIMEOUT_OPTION, "")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's cost is for production; a fast hasher keeps factories cheap. Login still hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    # The test client runs requests in this thread and LocaleMiddleware leaves the last one's
    # language active: a request to /en/… would make the next test (and the browser tests' live
    # server, started while it is active) speak English.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    # The cache (Redis in CI's second run) outlives a test; query counts and throttles need it
    # empty.
    cache.clear()


# Privileges added after most tests were written (flag, comment everywhere, create a tag): by
# default tests run with them open to every member, so a test about, say, flag resolution need
# not grant reputation first. Tests of these privileges are marked `real_privileges` and run
# with the thresholds config/settings.py sets.
NEWER_PRIVILEGES = ("PRIVILEGE_FLAG", "PRIVILEGE_COMMENT", "PRIVILEGE_CREATE_TAG")


@pytest.fixture(autouse=True)
def newer_privileges_open(request, settings):
    if request.node.get_closest_marker("real_privileges"):
        return
    settings.MIANJING = {**settings.MIANJING, **dict.fromkeys(NEWER_PRIVILEGES, 1)}


@pytest.fixture(autouse=True)
def short_answers_allowed(request, settings):
    """Likewise the minimum answer length: most tests answer in a few words; tests marked
    `real_answer_minimum` run with the length config/settings.py sets."""
    if request.node.get_closest_marker("real_answer_minimum"):
        return
    settings.MIANJING = {**settings.MIANJING, "ANSWER_MIN_TEXT_LENGTH": 1}


@pytest.fixture
def page_cache_off(settings):
    """For tests that count what rendering a page costs, or change rows behind the services' back
    (factories): the anonymous page cache would answer from an earlier render."""
    settings.PAGE_CACHE_ENABLED = False


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    return moderator_create()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture(autouse=True)
def axe_audit(request):
    """After each browser test, axe-core on every page it visited (tests/a11y.py).

    Asking for the database here makes this teardown run before the test's data is flushed."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    request.getfixturevalue("transactional_db")
    browser = request.getfixturevalue("browser")
    yield
    audit_or_skip(browser)
