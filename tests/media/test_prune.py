"""`manage.py prune_media`: uploads nobody attached within a day, and the files of what was detached
(a post deleted, a message recalled) a day ago, go with their rows; everything else stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from media.models import Media

from .conftest import make_image, stored_files, undecodable_png

pytestmark = pytest.mark.django_db


def prune() -> str:
    output = StringIO()
    call_command("prune_media", stdout=output)
    return output.getvalue()


def aged(media_id: int, **ages: timedelta) -> None:
    """Moves the upload's times back: aged(id, created_at=timedelta(hours=25))."""
    now = timezone.now()
    Media.objects.filter(pk=media_id).update(**{field: now - age for field, age in ages.items()})


@pytest.fixture
def pruning(django_capture_on_commit_callbacks):
    """prune_media, its files deleted after its commit as they are outside a test's transaction."""

    def run() -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return prune()

    return run


def files_of(media_id: int) -> set[str]:
    media = Media.objects.get(pk=media_id)
    return {media.display_name, media.thumbnail_name}


def test_a_day_old_unattached_upload_goes_with_its_files_and_a_fresh_one_stays(
    client_for, alice, uploaded, pruning, settings
):
    client = client_for(alice)
    old, fresh = uploaded(client), uploaded(client)
    old_files, fresh_files = files_of(old["id"]), files_of(fresh["id"])
    aged(old["id"], created_at=settings.MEDIA_UNATTACHED_TTL + timedelta(minutes=1))

    assert pruning() == "Deleted 1 unattached and 0 detached uploads (2 files).\n"
    assert client.get(f"/api/media/{old['id']}/").status_code == 404
    assert client.get(f"/api/media/{fresh['id']}/").json()["status"] == "ready"
    assert set(stored_files()) == fresh_files
    assert not old_files & set(stored_files())


def test_attached_uploads_stay_however_old_and_detached_ones_go_after_the_retention(
    client_for, alice, uploaded, pruning, settings
):
    client = client_for(alice)
    attached, detached_long_ago, detached_lately = uploaded(client), uploaded(client), uploaded(client)
    long_ago = settings.MEDIA_RETENTION + timedelta(minutes=1)
    for media in (attached, detached_long_ago, detached_lately):
        # Attached as media.attach does it (a post's photos), all a week old.
        Media.objects.filter(pk=media["id"]).update(attached_kind="post", attached_id=7, position=0)
        aged(media["id"], created_at=timedelta(days=7), attached_at=timedelta(days=7))
    aged(detached_long_ago["id"], detached_at=long_ago)
    aged(detached_lately["id"], detached_at=timedelta(minutes=5))
    kept = files_of(attached["id"]) | files_of(detached_lately["id"])

    assert pruning() == "Deleted 0 unattached and 1 detached uploads (2 files).\n"
    assert set(Media.objects.values_list("pk", flat=True)) == {attached["id"], detached_lately["id"]}
    assert set(stored_files()) == kept


def test_failed_and_never_processed_uploads_are_pruned_too(client_for, alice, upload, pruning, settings):
    client = client_for(alice)
    failed = upload(client, undecodable_png())
    stuck = upload(client, make_image("JPEG"))
    # As if its processing never finished (a worker lost).
    Media.objects.filter(pk=stuck.json()["id"]).update(status=Media.Status.PROCESSING)
    for response in (failed, stuck):
        assert response.status_code == 201
        aged(response.json()["id"], created_at=settings.MEDIA_UNATTACHED_TTL + timedelta(hours=1))

    pruning()
    assert not Media.objects.exists()
    assert stored_files() == []


def test_pruning_with_nothing_to_prune_says_so(db):
    assert prune() == "Deleted 0 unattached and 0 detached uploads (0 files).\n"
