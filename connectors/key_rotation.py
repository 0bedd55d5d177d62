"""Re-encrypt every stored secret under the first FERNET_KEYS key, so older keys can be dropped."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models import Model
from fernet_fields import EncryptedField


def encrypted_fields(model: type[Model]) -> list[str]:
    return [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedField)]


def reset_fernet_caches() -> None:
    """Fernet objects are cached per field instance; drop them so changed FERNET_KEYS take effect."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedField):
                for attr in ("keys", "fernet_keys", "fernet"):
                    field.__dict__.pop(attr, None)


@transaction.atomic
def rotate_all() -> int:
    """Load and save each row holding encrypted fields; returns how many rows were rewritten."""
    count = 0
    for model in apps.get_models():
        names = encrypted_fields(model)
        if not names:
            continue
        for obj in model._default_manager.select_for_update().all():
            # Saving only the encrypted columns rewrites them with the first (newest) key.
            obj.save(update_fields=names)
            count += 1
    return count
