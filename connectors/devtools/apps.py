from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Holds the `demo` and `run_sandbox` commands; no models, no migrations."""

    name = "connectors.devtools"
    label = "devtools"
    verbose_name = "Development tools"
