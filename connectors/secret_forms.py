"""Write-only admin form fields for secrets: never rendered back, blank keeps the stored value."""

from __future__ import annotations

from typing import Any

from django import forms

from .connection_rules import RETYPED_SECRETS, check_url, identity_changed

KEEP_HELP = "Stored encrypted and never shown. Leave blank to keep the current value."


class WriteOnlySecretForm(forms.ModelForm):
    """A ModelForm whose `secret_fields` are password inputs that never carry the stored value."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            has_value = bool(self.instance.pk and getattr(self.instance, name))
            self.fields[name] = forms.CharField(
                label=self.fields[name].label,
                required=False,
                strip=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=KEEP_HELP if has_value else "Stored encrypted and never shown.",
            )
            # The stored secret must not reach the page even as the field's initial value.
            self.initial.pop(name, None)

    def _post_clean(self) -> None:
        for name in self.secret_fields:
            if name in self.cleaned_data and self.cleaned_data[name] == "" and self.instance.pk:
                self.cleaned_data.pop(name)  # blank = keep what is stored
        super()._post_clean()  # type: ignore[misc]  # Django's private hook, which django-stubs leaves out


class ConnectionForm(WriteOnlySecretForm):
    """A connection's form: addresses checked (connection_rules.check_url), and the typed secrets
    asked for again whenever the endpoint or identity changes — never carried to a new address."""

    url_fields: tuple[str, ...] = ()
    bill_hosts = False  # BILL addresses must be BILL's gateways

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned is None:  # Django reads a clean() answering None as "cleaned_data as it is"
            cleaned = self.cleaned_data
        for name in self.url_fields:
            if cleaned.get(name):
                try:
                    check_url(cleaned[name], bill=self.bill_hosts)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        model_name = self._meta.model.__name__
        self.identity_change = identity_changed(model_name, self.changed_data) if self.instance.pk else []
        if self.identity_change:
            what = ", ".join(str(self.fields[f].label or f).lower() for f in self.identity_change)
            for secret in RETYPED_SECRETS.get(model_name, ()):
                if secret in self.fields and not cleaned.get(secret):
                    self.add_error(
                        secret,
                        f"The {what} changed: type the {str(self.fields[secret].label or secret).lower()} "
                        "again. A stored secret is never sent to a new address or account.",
                    )
        return cleaned

    def save(self, commit: bool = True) -> Any:
        if getattr(self, "identity_change", None) and hasattr(self.instance, "session_id"):
            # The cached session was issued to the old identity: it must not be sent to the new one.
            self.instance.session_id = None
            self.instance.session_last_used_at = None
        return super().save(commit)
