from __future__ import annotations

from django import forms

from core.models import User


class ProfileForm(forms.ModelForm[User]):
    """Name is saved directly; a new e-mail address waits for confirmation."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="A new address takes effect once you open the link we send to it.",
    )

    class Meta:
        model = User
        fields = ["name"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].initial = self.instance.email

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if (
            User.objects.filter(email__iexact=email)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError("Another account uses this e-mail address.")
        return email

    @property
    def email_changed(self) -> bool:
        return bool(self.cleaned_data["email"] != self.instance.email.lower())
