from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from . import services
from .models import Block, Contact, ContactRequest, User


class RevokingAdminPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password reset, through the service: the user is signed out everywhere."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        services.password_change(user=self.user, new_password=self.cleaned_data["password1"] if usable else None)
        return self.user


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    change_password_form = RevokingAdminPasswordChangeForm
    fieldsets = (*UserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "bio")}))
    list_display = ("username", "display_name", "email", "is_active", "is_staff", "date_joined")
    search_fields = ("username", "display_name", "email")
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected users (sign them out everywhere)")
    def deactivate(self, request, queryset):
        # One by one through the service, not queryset.update(): the saves close their sockets.
        for user in queryset.filter(is_active=True):
            services.user_deactivate(user=user)


@admin.register(ContactRequest)
class ContactRequestAdmin(admin.ModelAdmin):
    list_display = ("from_user", "to_user", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("from_user", "to_user")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("user", "contact", "created_at")
    raw_id_fields = ("user", "contact")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    raw_id_fields = ("blocker", "blocked")
