"""Re-encrypt every secret under the first key in FERNET_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from connectors.key_rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt all stored credentials with the first key of FERNET_KEYS. Put the new key first, "
        "keep the old one after it, run this, then remove the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} row(s) under the first FERNET_KEYS key."))
