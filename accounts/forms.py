"""Browser forms for sign-up, login and settings; writes go through accounts.services."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from . import services
from .models import User
from .validators import DISPLAY_NAME_TOO_LONG

# Parsing only: what a display name may be is accounts.validators' rule, applied by the services.
DISPLAY_NAME_ERRORS = {"display_name": {"max_length": DISPLAY_NAME_TOO_LONG}}


class SignupForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "display_name")
        error_messages = DISPLAY_NAME_ERRORS

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.", code="unique")
        return username


class LimitedAuthenticationForm(AuthenticationForm):
    """Django's login form, with the failure limits of accounts.services."""

    rate_limited: services.RateLimited | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = services.user_authenticate(
                request=self.request,
                username=username,
                password=password,
                client_address=services.client_address(self.request),
            )
        except services.RateLimited as limited:
            self.rate_limited = limited
            raise forms.ValidationError(limited.detail, code="rate_limited") from None
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "bio", "feed_uses_chats")
        widgets = {"bio": forms.Textarea(attrs={"rows": 3})}
        error_messages = DISPLAY_NAME_ERRORS
