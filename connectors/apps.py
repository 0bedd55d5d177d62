from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connections"

    def ready(self) -> None:
        from .signals import refresh_roles

        # After every migrate (all apps' permissions exist by then), so roles follow new models.
        post_migrate.connect(refresh_roles, dispatch_uid="connectors.refresh_roles")
