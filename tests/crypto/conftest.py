"""Fixtures for the cryptographic core: keys and data keys made once per test."""

from __future__ import annotations

import pytest

from intake.crypto import PrivateKey, new_data_key


@pytest.fixture(scope="session")
def epoch_key() -> PrivateKey:
    """A desk epoch key pair."""
    return PrivateKey.generate()


@pytest.fixture(scope="session")
def reviewer_key() -> PrivateKey:
    """A reviewer's key pair."""
    return PrivateKey.generate()


@pytest.fixture
def data_key() -> bytes:
    """A fresh submission data key."""
    return new_data_key()
