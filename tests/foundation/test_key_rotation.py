"""rotate_fernet_keys re-encrypts under the new key so the old one can be dropped."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from connectors.key_rotation import reset_fernet_caches
from connectors.models import GPConnection


@pytest.fixture
def fresh_keys(settings):
    yield settings
    reset_fernet_caches()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_secrets_readable_after_rotating_and_dropping_the_old_key(fresh_keys, tenant):
    fresh_keys.FERNET_KEYS = ["old-key-1"]
    reset_fernet_caches()
    gp = GPConnection.objects.create(
        tenant=tenant, base_url="https://gp", company="C", domain="D", username="u", password="pa55"
    )

    fresh_keys.FERNET_KEYS = ["new-key-2", "old-key-1"]
    reset_fernet_caches()
    call_command("rotate_fernet_keys")

    fresh_keys.FERNET_KEYS = ["new-key-2"]
    reset_fernet_caches()
    assert GPConnection.objects.get(pk=gp.pk).password == "pa55"


@pytest.mark.django_db(transaction=True)
def test_it_cannot_read_secrets_with_only_the_new_key_before_rotation(fresh_keys, tenant):
    from cryptography.fernet import InvalidToken

    fresh_keys.FERNET_KEYS = ["old-key-1"]
    reset_fernet_caches()
    GPConnection.objects.create(
        tenant=tenant, base_url="https://gp", company="C", domain="D", username="u", password="pa55"
    )
    fresh_keys.FERNET_KEYS = ["new-key-2"]
    reset_fernet_caches()
    with pytest.raises(InvalidToken):
        GPConnection.objects.get()
