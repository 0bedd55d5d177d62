"""The wired tenant of the sync tests, shared here."""

from tests.sync.conftest import wired  # noqa: F401
