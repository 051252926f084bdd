"""Fixtures for the incidents tests; modules opt in with `pytest.mark.usefixtures`."""

import pytest
from django.utils.functional import empty

from incidents.models import private_storage


@pytest.fixture
def private_storage_in_tmp(settings, tmp_path):
    """Evidence written by a test lands in a temporary private root, not in var/private."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield tmp_path / "private"
    private_storage._wrapped = empty


@pytest.fixture
def fast_password_hashing(settings):
    """These tests create many users and log none in: a fast hasher keeps them quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
