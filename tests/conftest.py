import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

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
