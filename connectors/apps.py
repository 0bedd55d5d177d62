from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connections"

    def ready(self) -> None:
        # after the app registry is ready: models (and what imports them) cannot load at this module's import
        from .models import Tenant
        from .signals import refresh_roles, tenant_saved
        from .tenant_admin import superusers_only_outside_tenants

        # The admin registry is complete here (django.contrib.admin, listed first, autodiscovered it).
        superusers_only_outside_tenants()

        # After every migrate (all apps' permissions exist by then), so roles follow new models.
        post_migrate.connect(refresh_roles, dispatch_uid="connectors.refresh_roles")
        post_save.connect(tenant_saved, sender=Tenant, dispatch_uid="connectors.tenant_saved")
