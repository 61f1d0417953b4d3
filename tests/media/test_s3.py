"""Uploads in an S3 bucket (MEDIA_S3_BUCKET): moto's S3 server stands in for AWS, in a process of
its own on a free port, and what the app did is read back from it (its objects, its request log).

- The environment alone switches the storage: a file saved lands in the bucket.
- An upload goes into the bucket, its display file and thumbnail follow, and the original is deleted.
- Nothing in the bucket is public: the plain URL of an object is refused.
- MEDIA_SERVE="redirect": the uploader is sent to a presigned URL that expires within
  MEDIA_PRESIGNED_SECONDS and fetches the very bytes; anyone else gets the 404 of a missing file.
"""

import io
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from media.models import Media
from media.storage import s3_storage
from tests.live import ROOT, free_port, stop_process

REGION = "us-east-1"
# moto takes any keys; these only have to be the same on both sides.
ACCESS_KEY_ID = "tandem-test"
SECRET_ACCESS_KEY = "tandem-test-secret"
# What the fixture writes and reads back through the storage before the test begins.
PROBE = "probe.txt"
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")


class MotoServer:
    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"moto_server did not start: {self.log_path.read_text()}")
                time.sleep(0.1)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def requests(self, bucket: str) -> list[tuple[str, str]]:
        """(method, key) of every request the server answered about objects of `bucket`, in order."""
        # The server's access log (werkzeug's), colours taken out: "PUT /bucket/key HTTP/1.1" 200 -
        log = ANSI_STYLE.sub("", self.log_path.read_text(errors="replace"))
        pattern = re.compile(rf'"([A-Z]+) /{re.escape(bucket)}/([^?\s]+)\S* HTTP/1\.1"')
        return [match.groups() for match in pattern.finditer(log)]


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(moto):
    """An S3 client of the test's own (an IP address as the endpoint: reached by path)."""
    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture
def bucket(s3) -> str:
    """A fresh bucket for each test, so its objects and its lines of the request log are its own."""
    name = f"tandem-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def keys_in(s3, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def object_bytes(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture
def in_bucket(settings, moto, s3, bucket) -> str:
    """The app's default storage is the bucket (as MEDIA_S3_BUCKET makes it), uploads are processed in
    the request, and files are served by redirect. Checked by writing and reading back."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=bucket,
            endpoint_url=moto.url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            presigned_seconds=settings.MEDIA_PRESIGNED_SECONDS,
        ),
    }
    settings.MEDIA_PROCESSING = "inline"
    settings.MEDIA_SERVE = "redirect"
    probe = default_storage.save(PROBE, ContentFile(b"written through the storage"))
    assert object_bytes(s3, bucket, probe) == b"written through the storage"
    with default_storage.open(probe) as stored:
        assert stored.read() == b"written through the storage"
    default_storage.delete(probe)
    assert keys_in(s3, bucket) == set()
    return bucket


def jpeg(width: int = 320, height: int = 240) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(client, data: bytes, name: str = "photo.jpg") -> dict:
    """Uploads `data` and returns the media object as it is once processed (in the request, here)."""
    file = SimpleUploadedFile(name, data, content_type="image/jpeg")
    response = client.post("/api/media/", {"file": file, "alt": "a red square"}, format="multipart")
    assert response.status_code == 201, response.content
    media = client.get(f"/api/media/{response.json()['id']}/").json()
    assert media["status"] == "ready", media
    return media


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_environment_alone_puts_files_in_the_bucket(moto, s3, bucket):
    """MEDIA_S3_* in the environment make the default storage the bucket, with presigned URLs."""
    script = (
        "import django, json; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "name = default_storage.save('hello.txt', ContentFile(b'hello from the settings'))\n"
        "print(json.dumps({'name': name, 'url': default_storage.url(name)}))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "MEDIA_S3_BUCKET": bucket,
        "MEDIA_S3_ENDPOINT_URL": moto.url,
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    saved = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert object_bytes(s3, bucket, saved["name"]) == b"hello from the settings"
    assert saved["url"].startswith(f"{moto.url}/{bucket}/")
    assert parse_qs(urlsplit(saved["url"]).query)["X-Amz-Expires"] == ["60"]
    assert fetch(saved["url"]) == (200, b"hello from the settings")


@pytest.mark.django_db(transaction=True)
def test_an_upload_goes_to_the_bucket_and_only_its_processed_files_stay(in_bucket, moto, s3, alice, client_for):
    media = upload(client_for(alice), jpeg())
    row = Media.objects.get(pk=media["id"])
    assert keys_in(s3, in_bucket) == {row.display_name, row.thumbnail_name}
    requests = [(method, key) for method, key in moto.requests(in_bucket) if key != PROBE]
    writes = [key for method, key in requests if method == "PUT"]
    deletes = [key for method, key in requests if method == "DELETE"]
    # The upload itself was stored first, then replaced by what processing made of it.
    original = writes[0]
    assert original not in {row.display_name, row.thumbnail_name}
    assert set(writes) == {original, row.display_name, row.thumbnail_name}
    assert deletes == [original]
    with Image.open(io.BytesIO(object_bytes(s3, in_bucket, row.display_name))) as display:
        assert display.size == (media["width"], media["height"]) == (320, 240)


@pytest.mark.django_db(transaction=True)
def test_nothing_in_the_bucket_is_public(in_bucket, moto, s3, alice, client_for):
    upload(client_for(alice), jpeg())
    stored = keys_in(s3, in_bucket)
    assert len(stored) == 2
    for key in stored:
        assert fetch(f"{moto.url}/{in_bucket}/{key}")[0] == 403
        grants = s3.get_object_acl(Bucket=in_bucket, Key=key)["Grants"]
        assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants), grants


@pytest.mark.django_db(transaction=True)
def test_the_uploader_is_sent_to_a_presigned_url_that_expires_within_a_minute(
    in_bucket, moto, s3, settings, alice, client_for
):
    client = client_for(alice)
    media = upload(client, jpeg())
    row = Media.objects.get(pk=media["id"])
    for variant, key in (("url", row.display_name), ("thumbnail_url", row.thumbnail_name)):
        response = client.get(media[variant])
        assert response.status_code == 302, response.content
        target = urlsplit(response["Location"])
        assert f"{target.scheme}://{target.netloc}" == moto.url
        assert target.path == f"/{in_bucket}/{key}"
        signed = parse_qs(target.query)
        assert 0 < int(signed["X-Amz-Expires"][0]) <= settings.MEDIA_PRESIGNED_SECONDS
        assert signed["X-Amz-Signature"]
        assert fetch(response["Location"]) == (200, object_bytes(s3, in_bucket, key))


@pytest.mark.django_db(transaction=True)
def test_anyone_but_the_uploader_gets_the_404_of_a_missing_file(in_bucket, alice, bob, client_for, api):
    media = upload(client_for(alice), jpeg())
    missing = api.get(media["url"].replace(Media.objects.get(pk=media["id"]).key, "no-such-key"))
    assert missing.status_code == 404
    for client in (client_for(bob), api):
        for variant in ("url", "thumbnail_url"):
            refused = client.get(media[variant])
            assert refused.status_code == 404
            assert refused.content == missing.content
            assert "Location" not in refused
