"""The sync tests' tenant wired to both sandboxes."""

from tests.sync.conftest import wired  # noqa: F401
