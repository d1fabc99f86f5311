import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.a11y import audit_or_skip
from tests.factories import UserFactory, moderator_create


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's cost is for production; a fast hasher keeps factories cheap. Login still hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    # The cache (Redis in CI's second run) outlives a test; query counts and throttles need it
    # empty.
    cache.clear()


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
