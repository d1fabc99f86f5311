import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory, moderator_create


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
