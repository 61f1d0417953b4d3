"""The avatar form of /settings/, which works without JavaScript: the file goes through the same
upload service as POST /api/media/, then becomes the avatar through the same profile service as
PATCH /api/me/ {avatar}. Rendered on the settings page by `{% avatar_section %}` (media_tags), as
chat renders its mutes there: accounts sits below media and never imports it."""

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.services import action_take, profile_update
from common.errors import ServiceError

from .forms import AvatarForm
from .models import Media
from .services import media_upload

# Processing runs in the background (a thread or a worker); a page has no script to ask again, so
# the request waits this long for the avatar to be ready.
READY_WAIT_SECONDS = 15


def _when_processed(media: Media) -> Media:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while media.status == Media.Status.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.2)
        media.refresh_from_db(fields=["status"])
    return media


@require_POST
@login_required
def avatar_change(request):
    back = reverse("settings") + "#avatar"
    if request.POST.get("remove") == "1":
        profile_update(user=request.user, avatar=None)
        messages.success(request, "Profile photo removed.")
        return redirect(back)
    form = AvatarForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form.errors["photo"][0])
        return redirect(back)
    action_take(action="media-upload", user=request.user)
    try:
        media = _when_processed(media_upload(owner=request.user, file=form.cleaned_data["photo"], kind="image"))
        profile_update(user=request.user, avatar=media.pk)
    except ServiceError as refusal:  # not an image, too large, still processing: the reason, on the page
        messages.error(request, refusal.detail)
    else:
        messages.success(request, "Profile photo updated.")
    return redirect(back)
