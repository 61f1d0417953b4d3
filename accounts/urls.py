from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from . import verification_views, views

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView answers POST only: a link or an <img> cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/verification/", verification_views.verification_settings, name="settings-verification"),
    path("settings/password/", views.PasswordChangeView.as_view(), name="password_change"),
    re_path(r"^avatars/(?P<username>[^/]{1,150})\.svg$", views.default_avatar, name="default-avatar"),
]
