"""Keep role permissions current: permissions for new models exist only after each migrate."""

from __future__ import annotations

from typing import Any


def refresh_roles(sender: Any, **kwargs: Any) -> None:
    from .roles import sync_role_permissions

    sync_role_permissions()
