"""Browser pages for accounts: sign up, log in, log out, settings; and the generated default avatars."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.decorators.http import require_safe
from django.views.generic import FormView

from . import services
from .avatars import default_avatar_svg
from .forms import LimitedAuthenticationForm, ProfileForm, SignupForm
from .models import User
from .validators import InvalidName


def _refused_name(view, form, refusal: InvalidName):
    """The form again with the service's reason on the display name, answered 400."""
    form.add_error("display_name", refusal.detail)
    response = view.form_invalid(form)
    response.status_code = 400
    return response


class SignupView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            services.registration_check(client_address=services.client_address(self.request))
        except services.RateLimited as limited:
            form.add_error(None, limited.detail)
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(limited.retry_after)
            return response
        try:
            user = services.user_register(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
            )
        except InvalidName as refusal:
            return _refused_name(self, form, refusal)
        login(self.request, user)
        messages.success(self.request, f"Welcome to Tandem, {user.shown_name}!")
        return redirect("home")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LimitedAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.rate_limited.retry_after)
        return response


class SettingsView(LoginRequiredMixin, FormView):
    template_name = "accounts/settings.html"
    form_class = ProfileForm
    success_url = reverse_lazy("settings")

    def get_form_kwargs(self):
        # A copy: a ModelForm writes what it parsed onto its instance, and request.user must
        # keep its saved name until the service has accepted the new one.
        return {**super().get_form_kwargs(), "instance": User.objects.get(pk=self.request.user.pk)}

    def form_valid(self, form):
        try:
            services.profile_update(
                user=self.request.user,
                display_name=form.cleaned_data["display_name"],
                bio=form.cleaned_data["bio"],
                feed_uses_chats=form.cleaned_data["feed_uses_chats"],
            )
        except InvalidName as refusal:
            return _refused_name(self, form, refusal)
        messages.success(self.request, "Settings saved.")
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("settings")

    def form_valid(self, form):
        services.password_change(user=form.user, new_password=form.cleaned_data["new_password1"], request=self.request)
        messages.success(self.request, "Password changed. You were signed out everywhere else.")
        return redirect(self.get_success_url())


# An SVG opened on its own is a document: nothing in it may run or load anything.
AVATAR_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


@require_safe
def default_avatar(request, username: str):
    """The generated avatar of `username` (accounts.avatars), public and cached for a day.

    Anyone may fetch it (an <img> on a public page, a mail client). A name nobody has (or a
    closed account's) gets the name's own initials rather than an error.
    """
    # PostgreSQL refuses NUL in a query; such a name matches nobody.
    people = User.objects.filter(is_active=True).only("username", "display_name")
    user = people.filter(username__iexact=username).first() if "\x00" not in username else None
    svg = default_avatar_svg(username=username, name=user.shown_name if user is not None else username)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = AVATAR_POLICY
    return response
