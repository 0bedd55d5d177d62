"""The task queue's admin pages, kept to looking only for everyone but superusers.

django-q2's own admin offers "Resubmit selected tasks to queue" to anyone who can open the list, and a
task's `func` is any importable callable: running one again is for superusers alone. Adding and
changing schedules and tasks is kept from the roles by their permissions (connectors.roles).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_q import admin as q_admin
from django_q.models import Failure, Success


class SuperuserResubmitOnly:
    """Removes django-q's resubmit action unless the user is a superuser."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if not request.user.is_superuser:
            actions.pop("resubmit_task", None)
        return actions


class TaskResultAdmin(SuperuserResubmitOnly, q_admin.TaskAdmin):
    pass


class FailedTaskAdmin(SuperuserResubmitOnly, q_admin.FailAdmin):
    pass


for _model, _admin in ((Success, TaskResultAdmin), (Failure, FailedTaskAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
