import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from tests.factories import UserFactory, moderator_create


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
