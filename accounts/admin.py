from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from . import services, verification
from .models import Block, Contact, ContactRequest, User, VerificationRequest


class RevokingAdminPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password reset, through the service: the user is signed out everywhere."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        services.password_change(user=self.user, new_password=self.cleaned_data["password1"] if usable else None)
        return self.user


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    change_password_form = RevokingAdminPasswordChangeForm
    fieldsets = (*UserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "bio", "verification")}))
    list_display = ("username", "display_name", "verification", "email", "is_active", "is_staff", "date_joined")
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


@admin.register(VerificationRequest)
class VerificationRequestAdmin(admin.ModelAdmin):
    """The queue of V badge requests, oldest pending first; approve or refuse selected rows in one click
    (through accounts.verification, which tells each person)."""

    list_display = ("user", "tier", "real_name", "reason", "status", "created_at")
    list_filter = ("status", "tier")
    search_fields = ("user__username", "real_name")
    ordering = ("-status", "created_at")  # "pending" sorts after "approved"/"refused": first, descending
    readonly_fields = ("user", "tier", "real_name", "reason", "status", "created_at", "decided_at", "decided_by")
    actions = ["approve", "refuse"]

    def has_add_permission(self, request):
        return False  # people ask on /settings/verification/

    def _decide(self, request, queryset, *, approve: bool) -> None:
        decided = [
            verification.verification_decide(request_id=pk, approve=approve, admin=request.user)
            for pk in queryset.filter(status="pending").values_list("pk", flat=True)
        ]
        count = len([d for d in decided if d is not None])
        verb = "Approved" if approve else "Refused"
        self.message_user(request, f"{verb} {count} request{'s' if count != 1 else ''}.")

    @admin.action(description="Approve the selected requests (the badge is shown at once)")
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse the selected requests")
    def refuse(self, request, queryset):
        self._decide(request, queryset, approve=False)
