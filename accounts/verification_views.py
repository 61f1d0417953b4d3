"""/settings/verification/: ask for an identity or organisation V badge, and see where the request stands."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .models import GRANTED_TIERS, VerificationRequest
from .verification import REAL_NAME_MAX, REASON_MAX, VerificationError, verification_pending, verification_request


class VerificationForm(forms.Form):
    tier = forms.ChoiceField(
        label="Verify", choices=[(tier.value, tier.label) for tier in GRANTED_TIERS], widget=forms.RadioSelect
    )
    real_name = forms.CharField(
        label="Real name", max_length=REAL_NAME_MAX, help_text="Yours, or your organisation's or channel's."
    )
    reason = forms.CharField(
        label="Why", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}), help_text="Who you are, in brief."
    )


@login_required
def verification_settings(request):
    form = VerificationForm(request.POST or None, initial={"tier": GRANTED_TIERS[0].value})
    if request.method == "POST" and form.is_valid():
        try:
            verification_request(user=request.user, **form.cleaned_data)
        except VerificationError as refusal:
            form.add_error(None, refusal.detail)
        else:
            messages.success(request, "Request sent. You will be told when an admin has answered.")
            return redirect("settings-verification")
    context = {
        "form": form,
        "pending": verification_pending(request.user),
        "last": VerificationRequest.objects.filter(user=request.user).exclude(status="pending").order_by("-pk").first(),
    }
    return render(request, "accounts/verification.html", context)
