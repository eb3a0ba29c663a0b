"""Fixtures for the cryptographic core: key pairs, data keys, a keyring and a desk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from intake.crypto import Keyring, NewDesk, PrivateKey, create_desk, new_data_key

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def epoch_key() -> PrivateKey:
    """A desk epoch key pair."""
    return PrivateKey.generate()


@pytest.fixture(scope="session")
def reviewer_key() -> PrivateKey:
    """A reviewer's key pair."""
    return PrivateKey.generate()


@pytest.fixture(scope="session")
def data_key() -> bytes:
    """A submission data key, shared by tests that only read with it."""
    return new_data_key()


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """An empty keyring folder inside the test's temporary directory."""
    return Keyring(tmp_path / "keys")


@pytest.fixture
def desk(keyring: Keyring) -> NewDesk:
    """A desk made by `create_desk`: its first epoch is granted to the recovery key only."""
    return create_desk(keyring, "main", "Main desk", TODAY)
