"""Write-only admin form fields for secrets: never rendered back, blank keeps the stored value."""

from __future__ import annotations

from typing import Any

from django import forms

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
        super()._post_clean()
