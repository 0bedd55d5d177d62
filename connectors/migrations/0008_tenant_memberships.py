"""Tenant memberships. An install with a single tenant keeps working after the upgrade: its staff
users become members of it. With several tenants nobody is granted anything (fail closed): a
superuser assigns each person their tenants."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def single_tenant_staff_keep_access(apps, schema_editor):
    Tenant = apps.get_model("connectors", "Tenant")
    TenantMembership = apps.get_model("connectors", "TenantMembership")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    tenants = list(Tenant.objects.all()[:2])
    if len(tenants) != 1:
        return
    for user in User.objects.filter(is_staff=True, is_superuser=False):
        TenantMembership.objects.get_or_create(tenant=tenants[0], user=user)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0007_money_due"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantMembership",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="connectors.tenant",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tenant_memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "tenant membership",
                "constraints": [
                    models.UniqueConstraint(fields=("tenant", "user"), name="one_membership_per_user")
                ],
            },
        ),
        migrations.RunPython(single_tenant_staff_keep_access, migrations.RunPython.noop),
    ]
