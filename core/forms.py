from __future__ import annotations

from django import forms

from core.models import User


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["name", "email"]

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another account uses this e-mail address.")
        return email
