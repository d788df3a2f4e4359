"""Secrets at rest (sealing.py): each kind of secret under its own key, and the rotation of the secret key."""

from __future__ import annotations

import pytest

from overture import sealing

KEY = "the-instance-secret-key-" + "k" * 24
CALENDARS, INTEGRATIONS = b"overture calendar secrets v1", b"overture integration secrets v1"


def test_a_secret_sealed_for_one_kind_cannot_be_opened_as_another() -> None:
    token = sealing.seal(KEY, INTEGRATIONS, {"client_secret": "s3cret"})

    assert "s3cret" not in token
    assert sealing.unseal(KEY, INTEGRATIONS, token) == {"client_secret": "s3cret"}
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(KEY, CALENDARS, token)


def test_a_resealed_secret_opens_with_the_new_key_alone() -> None:
    old = sealing.seal(KEY, INTEGRATIONS, {"client_secret": "s3cret"})
    new_key = "a-new-instance-secret-key-" + "n" * 24

    token = sealing.reseal(new_key, INTEGRATIONS, old, previous_keys=[KEY])

    assert sealing.unseal(new_key, INTEGRATIONS, token) == {"client_secret": "s3cret"}
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(new_key, INTEGRATIONS, old)
