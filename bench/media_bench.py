"""Photos, voice and video: what processing an upload costs, what a feed page's photos weigh, and what the privacy
check costs a fetch (and a range request), each against a baseline measured in the same run.

    .venv/bin/python bench/media_bench.py [--reps 5] [--feed-posts 20] [--requests 500] [--before REF] [--no-write]
        [--only photos|voice-video] [--video-seconds 60] [--video-preset ultrafast] [--video-reps 3]

Everything runs on a fresh temp SQLite file and MEDIA_ROOT: seeded by `manage.py shell` (the
fetch rows' users, posts and files), then by this process (django.setup() on the same database).

1. Processing, in this process. A 12-megapixel photo-like JPEG made with Pillow now (`photo_like`:
   gradients, shapes, sensor noise; quality 90; EXIF with orientation 6 and a GPS position).
   Ours: the upload's check (media.inspect), taking the upload in (media.services.media_upload:
   the check again, storing the original, the row) and processing it (media.processing.process:
   decode, turn upright, the display file and thumbnail as WebP, the blurhash). Baselines on the
   same bytes: Pillow's own open + load + save as JPEG at full size (its default quality, 75),
   and the same saved as WebP (its defaults, quality 80 and method 4, as ours). `--reps` of each,
   interleaved; medians of wall and CPU time (process_time: one thread). Photos per second per
   core is 1 / CPU seconds.
2. A feed page's bytes: `--feed-posts` public posts, each with its own 12-megapixel photo (its
   own seed), uploaded and processed as above. A member fetches one page of the public timeline
   (GET /api/timeline/public/?limit=N, through nginx) and then each post's thumbnail_url; the
   bytes received are summed and set against the originals uploaded.
3. Fetches, one request at a time on one kept-alive connection, the first tenth of each
   connection's requests a warm-up not counted. One daphne worker (MEDIA_SERVE=accel, as `make
   run-nginx` runs it) behind Debian's nginx, rendered by deploy/nginx/render.py with one extra
   location serving the media directory as static files (the baseline: nginx alone). A floor row:
   the same nginx in front of bench/floor_app.py, a daphne app that answers X-Accel-Redirect
   without any check, so nginx sends the same file: what any answer through a Python worker
   costs. `--before REF` also starts a worker from `git archive REF` (its own nginx; the same
   database and files) and measures every worker row on both, alternating batches of requests,
   so before and after see the same machine load.

4. Voice and video (its own subsection, "### Voice and video"; `--only voice-video` runs and rewrites
   it alone). A `--video-seconds` (60) 1080p30 H.264 + AAC MP4 made at bench time with PyAV (FFmpeg's
   `testsrc2` pattern and a tone; libx264 at `--video-preset`, ultrafast by default so a fresh clone
   makes it in about a minute; kept in the system's temporary directory for the next run). In this
   process: media.audiovisual's probe and poster, the remux, and the whole upload + processing,
   against PyAV opening the same bytes and decoding the first second's frames (the baseline), medians
   of `--video-reps` interleaved rounds. Then the processed video, attached to a chat message, is
   fetched by Range (64 KiB and 1 MiB from the middle, a member's token) through the view three ways
   (accel behind nginx; direct behind nginx; direct, daphne alone) against nginx sending the same
   range of the same file from a static location; `uptime` at the start and end.

The section "## Media" of bench/RESULTS.md is replaced with the tables (`--only photos` keeps the
voice and video subsection as it was).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BIN,
    HOST,
    ROOT,
    free_port,
    make_user,
    migrate_and_seed,
    pct,
    start_daphne,
    stop,
    wait_port,
    write_section,
)

NGINX = "/usr/sbin/nginx"
GIT = shutil.which("git") or "git"
UPTIME = shutil.which("uptime") or "/usr/bin/uptime"
STATIC_PREFIX = "/_bench-static/"
BATCH = 50  # requests per turn when two workers alternate

SETUP = r"""
import io, json, random
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw
from media.models import Media
from chat.services import message_send
from microblog.services import post_create, user_follow

author, member = make_user("author"), make_user("member")
conversation = befriend(author, member)
user_follow(follower=member, followee=author)

# A photo-like picture: shapes and gradients, about what a 2048-px display file weighs per pixel.
rng = random.Random(15)
image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
draw = ImageDraw.Draw(image)
for _ in range(400):
    x, y = rng.randrange(1600), rng.randrange(1200)
    color = tuple(rng.randrange(256) for _ in range(3))
    draw.ellipse((x, y, x + rng.randrange(10, 200), y + rng.randrange(10, 200)), fill=color)

def stored(name, picture):
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=80)
    return default_storage.save(name, ContentFile(out.getvalue()))

display = stored("bench/display.webp", image)
thumbnail = stored("bench/thumbnail.webp", image.crop((200, 0, 1400, 1200)).resize((400, 400)))

def photo(kind, item_id):
    return Media.objects.create(
        owner=author, status="ready", display_name=display, display_type="image/webp",
        thumbnail_name=thumbnail, thumbnail_type="image/webp", width=1600, height=1200,
        attached_kind=kind, attached_id=item_id, attached_at=timezone.now(),
    ).key

message, _ = message_send(sender=author, conversation=conversation, body="a photo")
keys = {
    "message": photo("message", message.pk),
    "followers": photo("post", post_create(author=author, body="f", visibility="followers").pk),
    "public": photo("post", post_create(author=author, body="p").pk),
}
# The pages' way of asking: a session cookie, as signing in leaves it.
pages = Client()
pages.force_login(member)
report({
    "keys": keys, "display": display, "thumbnail": thumbnail,
    "sizes": {"display": default_storage.size(display), "thumbnail": default_storage.size(thumbnail)},
    "tokens": {u.pk: token_for(user=u).key for u in (author, member)}, "member": member.pk,
    "session": pages.cookies["sessionid"].value, "conversation": conversation.pk,
})
"""


# A 12-megapixel photo, made now -----------------------------------------------------------


def photo_like(seed: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A JPEG (quality 90) that compresses like a camera's: smooth gradients, shapes with soft edges
    and sensor noise; EXIF says turn it a quarter (orientation 6) and where it was taken (GPS)."""
    from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = size
    channels = []
    for _ in range(3):
        # A gradient at its own angle per channel; the centre of the rotated square has no corners.
        turned = Image.linear_gradient("L").resize((512, 512)).rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR)
        low, high = rng.randrange(0, 90), rng.randrange(160, 256)
        ramp = turned.crop((128, 128, 384, 384)).resize(size, Image.Resampling.BILINEAR)
        channels.append(ramp.point(lambda value, low=low, high=high: low + value * (high - low) // 255))
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(40, 1200), y + rng.randrange(40, 1200))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    noise = Image.merge("RGB", [Image.effect_noise(size, 10) for _ in range(3)])  # around 128
    image = ImageChops.add(image, noise, offset=-128)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Bench"
    exif[ExifTags.Base.Model] = "Camera 12MP"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 22.0, 8.5), 3: "E", 4: (4.0, 53.0, 25.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


# Processing, in this process --------------------------------------------------------------


def timed_call(function) -> tuple[float, float, object]:
    """(wall ms, CPU ms of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def pillow_resave(data: bytes, pillow_format: str) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, pillow_format)
    return len(out.getvalue())


class Uploader:
    """media_upload with processing held back (media.services.schedule swapped for a list), so the
    upload and media.processing.process are timed apart."""

    def __init__(self, owner):
        import media.services

        self.owner = owner
        self.held: list[int] = []
        media.services.schedule = self.held.append

    def upload(self, data: bytes, name: str):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from media.services import media_upload

        return media_upload(owner=self.owner, file=SimpleUploadedFile(name, data, content_type="image/jpeg"))

    def process(self, media_id: int) -> None:
        from media.processing import process

        self.held.remove(media_id)
        process(media_id)


def measure_processing(reps: int) -> dict:
    from django.core.files.storage import default_storage

    from media.inspect import inspect_bytes
    from media.models import Media

    data = photo_like(seed=0)
    uploader = Uploader(make_user("photographer"))
    figures: dict[str, list[tuple[float, float]]] = {}
    sizes = {}
    rounds = {
        "pillow_jpeg": partial(pillow_resave, data, "JPEG"),
        "pillow_webp": partial(pillow_resave, data, "WEBP"),
        "inspect": partial(inspect_bytes, data),
        "upload": partial(uploader.upload, data, "photo.jpg"),
    }
    for rep in range(reps + 1):  # the first round warms up (imports, first decode) and is not counted
        for name, function in rounds.items():
            wall, cpu, result = timed_call(function)
            if name.startswith("pillow"):
                sizes[name] = result
            if rep:
                figures.setdefault(name, []).append((wall, cpu))
        media = result  # the upload's
        wall, cpu, _ = timed_call(partial(uploader.process, media.pk))
        if rep:
            figures.setdefault("process", []).append((wall, cpu))
    media = Media.objects.get(pk=media.pk)
    assert media.status == Media.Status.READY, media.error
    sizes.update(
        original=len(data),
        display=media.size,
        thumbnail=default_storage.size(media.thumbnail_name),
        display_side=f"{media.width} × {media.height}",
    )
    medians = {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in figures.items()
    }
    return {"medians": medians, "sizes": sizes, "reps": reps}


def seed_feed(posts: int) -> dict:
    """`posts` public posts by "author", each with its own processed 12-megapixel photo."""
    from accounts.models import User
    from media.models import Media
    from microblog.services import post_create

    author = User.objects.get(username="author")
    uploader = Uploader(author)
    originals = {}
    for number in range(posts):
        data = photo_like(seed=100 + number)
        media = uploader.upload(data, f"feed{number}.jpg")
        uploader.process(media.pk)
        assert Media.objects.get(pk=media.pk).status == Media.Status.READY
        post_create(author=author, body=f"photo {number}", media=[media.pk])
        originals[media.pk] = len(data)
        print(f"  feed photo {number + 1}/{posts}: {len(data) / 1e6:.1f} MB", file=sys.stderr)
    return originals


# Workers and nginx ------------------------------------------------------------------------


def start_nginx(prefix: Path, port: int, upstream: int, media_root: Path) -> subprocess.Popen:
    render = [str(BIN / "python"), str(ROOT / "deploy/nginx/render.py"), "--prefix", str(prefix)]
    render += ["--listen", f"{HOST}:{port}", "--upstream", f"{HOST}:{upstream}", "--static-root", str(ROOT / "static")]
    render += ["--media-root", str(media_root)]
    subprocess.run(render, check=True, capture_output=True)
    conf = prefix / "nginx.conf"
    # The baseline: the same directory as plain static files, in the same server.
    static = f"        location {STATIC_PREFIX} {{\n            alias {media_root}/;\n        }}\n\n"
    conf.write_text(conf.read_text().replace("        location / {", static + "        location / {", 1))
    command = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
    process = subprocess.Popen(command)
    wait_port(port, process)
    return process


def exported(ref: str, into: Path) -> Path:
    """The tree of git `ref`, written under `into` (a worker of that version runs from it)."""
    archive = subprocess.run([GIT, "archive", "--format=tar", ref], cwd=ROOT, check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


class Fetcher:
    """One kept-alive connection to one nginx; milliseconds per request, after its warm-up."""

    def __init__(self, port: int, path: str, headers: dict, status: int, warm_up: int):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.path, self.headers, self.status = path, headers, status
        self.took: list[float] = []
        self.fetch(warm_up, keep=False)

    def fetch(self, count: int, keep: bool = True) -> None:
        for _ in range(count):
            started = time.perf_counter()
            self.connection.request("GET", self.path, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
            if keep:
                self.took.append((time.perf_counter() - started) * 1000)
            if response.status != self.status:
                raise RuntimeError(f"{self.path}: {response.status}, expected {self.status}")

    def close(self) -> None:
        self.connection.close()


def measure_rows(rows, ports: list[int], requests: int) -> list[list[list[float]]]:
    """For each row, each port's timings; with several ports their batches alternate."""
    figures = []
    for _name, path, headers, status in rows:
        fetchers = [Fetcher(port, path, headers, status, requests // 10) for port in ports]
        done = 0
        while done < requests:
            batch = min(BATCH, requests - done)
            for fetcher in fetchers:
                fetcher.fetch(batch)
            done += batch
        for fetcher in fetchers:
            fetcher.close()
        figures.append([fetcher.took for fetcher in fetchers])
    return figures


def get(port: int, path: str, headers: dict) -> bytes:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status}")
    return body


def feed_page_bytes(port: int, headers: dict, originals: dict[int, int]) -> dict:
    """A member's page of the public timeline and each of its posts' thumbnails, as received."""
    page = json.loads(get(port, f"/api/timeline/public/?limit={len(originals)}", headers))
    photos = [media for post in page["results"] for media in post["media"] if media["id"] in originals]
    if len(photos) != len(originals):
        raise RuntimeError(f"the page shows {len(photos)} of the {len(originals)} photos")
    thumbnails = [len(get(port, media["thumbnail_url"], headers)) for media in photos]
    return {
        "photos": len(photos),
        "thumbnails": sum(thumbnails),
        "displays": sum(media["size"] for media in photos),
        "originals": sum(originals.values()),
    }


# The report -------------------------------------------------------------------------------


def kib(size: float) -> str:
    return f"{size / 1024:,.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MiB"


def processing_table(processing: dict) -> str:
    medians, sizes = processing["medians"], processing["sizes"]
    jpeg_cpu = medians["pillow_jpeg"][1]
    rows = [
        ("Pillow: open + load + save as JPEG, full size (baseline)", "pillow_jpeg", f"{kib(sizes['pillow_jpeg'])}"),
        ("Pillow: open + load + save as WebP, full size", "pillow_webp", f"{kib(sizes['pillow_webp'])}"),
        ("ours: the upload's check (media.inspect)", "inspect", ""),
        ("ours: taking the upload in (check, store, row)", "upload", ""),
        (
            "ours: processing (media.processing.process)",
            "process",
            f"display {sizes['display_side']} {kib(sizes['display'])}, thumbnail {kib(sizes['thumbnail'])}",
        ),
    ]
    webp_cpu = medians["pillow_webp"][1]
    lines = [
        "| step | wall ms | CPU ms | photos/s per core | CPU / Pillow JPEG's | CPU / Pillow WebP's | output |",
        "|---|---|---|---|---|---|---|",
    ]
    both = (medians["upload"][0] + medians["process"][0], medians["upload"][1] + medians["process"][1])
    for label, (wall, cpu), output in [
        *((label, medians[name], output) for label, name, output in rows),
        ("ours: taking the upload in + processing", both, ""),
    ]:
        ratios = " | ".join(
            f"{cpu / base:.2f}×" if cpu >= base / 10 else f"{cpu / base:.3f}×" for base in (jpeg_cpu, webp_cpu)
        )
        lines.append(f"| {label} | {wall:,.0f} | {cpu:,.0f} | {1000 / cpu:.2f} | {ratios} | {output} |")
    return "\n".join(lines)


def feed_table(feed: dict) -> str:
    count = feed["photos"]
    lines = [
        "| a page of photo posts | total | per photo | share of the originals |",
        "|---|---|---|---|",
        f"| originals uploaded (JPEG, 12 MP) | {kib(feed['originals'])} | {kib(feed['originals'] / count)} | 100% |",
        f"| thumbnails fetched by the page | {kib(feed['thumbnails'])} | {kib(feed['thumbnails'] / count)} | "
        f"{100 * feed['thumbnails'] / feed['originals']:.1f}% |",
        f"| display files (opening every photo) | {kib(feed['displays'])} | {kib(feed['displays'] / count)} | "
        f"{100 * feed['displays'] / feed['originals']:.1f}% |",
    ]
    return "\n".join(lines)


def baseline_table(rows, figures) -> str:
    static_p50 = pct(figures[0][0], 50)
    lines = ["| fetch | p50 ms | p99 ms | p50 / nginx alone (photo) |", "|---|---|---|---|"]
    for (name, *_), (took,) in zip(rows, figures, strict=True):
        lines.append(f"| {name} | {pct(took, 50):.2f} | {pct(took, 99):.2f} | {pct(took, 50) / static_p50:.1f}× |")
    return "\n".join(lines)


def worker_table(rows, figures, baselines, before: str | None) -> str:
    """Each row's p50 and p99, before and after when measured; after's p50 against nginx alone
    sending the same file (photo or thumbnail) and against the floor."""
    static_p50 = {"photo": pct(baselines[0][0], 50), "thumbnail": pct(baselines[1][0], 50)}
    floor_p50 = pct(baselines[2][0], 50)
    head = ["fetch"]
    if before:
        head += [f"before ({before}) p50 ms", "before p99 ms", "before p50 / nginx alone"]
    head += ["p50 ms", "p99 ms", "p50 / nginx alone", "p50 / the floor"]
    if before:
        head += ["before p50 / after p50"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for (name, path, *_), per_port in zip(rows, figures, strict=True):
        after = per_port[-1]
        p50 = pct(after, 50)
        static = static_p50["thumbnail" if "thumbnail" in path else "photo"]
        cells = [name]
        if before:
            before_p50 = pct(per_port[0], 50)
            cells += [f"{before_p50:.2f}", f"{pct(per_port[0], 99):.2f}", f"{before_p50 / static:.1f}×"]
        cells += [f"{p50:.2f}", f"{pct(after, 99):.2f}", f"{p50 / static:.1f}×", f"{p50 / floor_p50:.1f}×"]
        if before:
            cells += [f"{pct(per_port[0], 50) / p50:.1f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Voice and video: probe and poster, and Range requests -------------------------------------

VIDEO_SIZE, VIDEO_FPS = (1920, 1080), 30
# libx264's quality: at 28 (its default is 23) a minute of the test pattern at the ultrafast preset
# stays under MEDIA_VIDEO_MAX_BYTES (100 MB), so it is a video Tandem takes.
VIDEO_CRF = 28
SUBSECTION = "### Voice and video"


def _filter_frames(*specs: tuple[str, str]):
    """The frames of an FFmpeg source filter (then any filters after it), as PyAV pulls them."""
    import av

    graph = av.filter.Graph()
    nodes = [graph.add(name, arguments) for name, arguments in specs]
    nodes.append(graph.add("abuffersink" if specs[0][0] == "sine" else "buffersink"))
    for node, following in itertools.pairwise(nodes):
        node.link_to(following)
    graph.configure()
    while True:
        try:
            yield graph.pull()
        except (av.error.EOFError, av.error.BlockingIOError):
            return


def test_video(seconds: int, preset: str) -> Path:
    """A `seconds`-long 1080p30 H.264/AAC MP4 (FFmpeg's moving test pattern `testsrc2` and a 440 Hz
    tone), encoded now with the libx264 that PyAV bundles at `preset`, index in front as phones write
    it. Kept in the system's temporary directory: a second run on the machine reuses it."""
    import av

    cache = Path(tempfile.gettempdir()) / "tandem-bench-video"
    cache.mkdir(exist_ok=True)
    path = cache / f"testsrc2-{VIDEO_SIZE[1]}p{VIDEO_FPS}-{seconds}s-{preset}-crf{VIDEO_CRF}-gop.mp4"
    if path.exists():
        return path
    print(f"  making a {seconds}-second 1080p video (libx264 {preset}) ...", file=sys.stderr)
    partial_path = path.with_suffix(".part.mp4")
    with av.open(str(partial_path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        video = output.add_stream("libx264", rate=VIDEO_FPS, options={"preset": preset, "crf": str(VIDEO_CRF)})
        video.width, video.height = VIDEO_SIZE
        video.pix_fmt = "yuv420p"
        audio = output.add_stream("aac", rate=48000, layout="stereo")
        size = f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}"
        for frame in _filter_frames(("testsrc2", f"size={size}:rate={VIDEO_FPS}:duration={seconds}")):
            # The source marks every frame a keyframe, which libx264 obeys (an all-intra file, whose
            # poster is one frame's decoding): unmarked, it places them itself (every 250 frames at
            # most, x264's default), so the poster decodes from 0 s to 1 s as the baseline does.
            frame.pict_type = av.video.frame.PictureType.NONE
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000, frame_size=1024)
        tone = (("sine", f"frequency=440:sample_rate=48000:duration={seconds}"), ("aformat", "channel_layouts=stereo"))
        for frame in [*_filter_frames(*tone), None]:
            for resampled in resampler.resample(frame):
                output.mux(audio.encode(resampled))
        output.mux(audio.encode(None))
    partial_path.rename(path)
    return path


def decode_first_second(data: bytes) -> int:
    """The baseline: PyAV opening the file and decoding its frames up to 1 s (threads as our poster's)."""
    import av

    with av.open(io.BytesIO(data), "r") as source:
        stream = source.streams.video[0]
        stream.thread_type = "AUTO"
        for count, frame in enumerate(source.decode(stream), 1):
            if frame.time >= 1.0:
                return count
    return 0


def measure_video(path: Path, reps: int) -> dict:
    """Probe, poster, remux and the whole upload + processing of the video at `path`, against the
    baseline, `reps` interleaved rounds after one warm-up; medians of wall and CPU (all threads)."""
    from django.conf import settings

    from media import audiovisual
    from media.models import Media

    data = path.read_bytes()
    if len(data) > settings.MEDIA_VIDEO_MAX_BYTES:
        # Measured all the same (the limit raised for this process), and said in the report.
        print(f"  the video ({len(data)} bytes) is past MEDIA_VIDEO_MAX_BYTES: raised for this run", file=sys.stderr)
        settings.MEDIA_VIDEO_MAX_BYTES = len(data)
    probed = audiovisual.probe(io.BytesIO(data))
    uploader = Uploader(make_user("filmmaker"))
    rounds = {
        "first_second": partial(decode_first_second, data),
        "probe": lambda: audiovisual.probe(io.BytesIO(data)),
        "poster": partial(audiovisual.poster, data),
        "remux": partial(audiovisual.remux, data, probed),
        "upload": partial(uploader.upload, data, "clip.mp4"),
    }
    figures: dict[str, list[tuple[float, float]]] = {}
    for rep in range(reps + 1):
        for name, function in rounds.items():
            wall, cpu, result = timed_call(function)
            if rep:
                figures.setdefault(name, []).append((wall, cpu))
        wall, cpu, _ = timed_call(partial(uploader.process, result.pk))
        if rep:
            figures.setdefault("process", []).append((wall, cpu))
        print(f"  video round {rep}/{reps}", file=sys.stderr)
    media = Media.objects.get(pk=result.pk)
    assert media.status == Media.Status.READY, media.error
    medians = {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in figures.items()
    }
    return {"medians": medians, "reps": reps, "size": len(data), "probed": probed, "media": media}


def attach_to_a_message(media, conversation_id: int) -> None:
    """The processed video in the chat between "author" and "member" (the fetch rows' member)."""
    from django.utils import timezone

    from accounts.models import User
    from chat.models import Conversation
    from chat.services import message_send
    from media.models import Media

    author = User.objects.get(username="author")
    conversation = Conversation.objects.get(pk=conversation_id)
    message, _ = message_send(sender=author, conversation=conversation, body="a video")
    Media.objects.filter(pk=media.pk).update(
        owner=author, attached_kind="message", attached_id=message.pk, attached_at=timezone.now()
    )


def video_table(video: dict) -> str:
    medians = video["medians"]
    base_wall, base_cpu = medians["first_second"]
    both = tuple(p + q for p, q in zip(medians["probe"], medians["poster"], strict=True))
    whole = tuple(p + q for p, q in zip(medians["upload"], medians["process"], strict=True))
    rows = [
        ("PyAV: open and decode the first second's frames (baseline)", medians["first_second"]),
        ("ours: probe (media.audiovisual.probe: every packet read, none decoded)", medians["probe"]),
        ("ours: poster (the first frame from 1 s that is not black, upright)", medians["poster"]),
        ("**ours: probe + poster**", both),
        ("ours: remux without re-encoding (no metadata, index in front)", medians["remux"]),
        (
            "ours: taking the upload in (its checks and probe, stored) + processing (probe, remux, poster, "
            "poster and thumbnail WebP, blurhash)",
            whole,
        ),
    ]
    lines = ["| step | wall ms | CPU ms | wall / baseline | CPU / baseline |", "|---|---|---|---|---|"]
    for label, (wall, cpu) in rows:
        lines.append(f"| {label} | {wall:,.0f} | {cpu:,.0f} | {wall / base_wall:.2f}× | {cpu / base_cpu:.2f}× |")
    return "\n".join(lines)


def range_rows(display_name: str, key: str, size: int, token: dict) -> tuple[list, list]:
    """(nginx alone's rows, the view's rows): the same ranges from the middle of the file."""
    middle = size // 2
    spans = [("64 KiB", 64 * 1024), ("1 MiB", 1024 * 1024)]
    static, view = [], []
    for label, length in spans:
        asked = {"Range": f"bytes={middle}-{middle + length - 1}"}
        static.append(
            (
                f"nginx alone: {label} from the middle, the file as a static file",
                STATIC_PREFIX + display_name,
                asked,
                206,
            )
        )
        view.append((label, f"/media/{key}/display", {**asked, **token}, 206))
    return static, view


def range_table(static_rows, static_figures, labelled: list[tuple[str, list, list]]) -> str:
    """p50 and p99 of each way of fetching each range, against nginx alone sending the same range."""
    lines = ["| range request | p50 ms | p99 ms | p50 / nginx alone | p99 / nginx alone |", "|---|---|---|---|---|"]
    base = {}
    for (name, *_), (took,) in zip(static_rows, static_figures, strict=True):
        span = name.split(": ")[1].split(" from")[0]
        base[span] = took
        lines.append(f"| {name} | {pct(took, 50):.2f} | {pct(took, 99):.2f} | 1.0× | 1.0× |")
    for way, rows, figures in labelled:
        for (span, *_), (took,) in zip(rows, figures, strict=True):
            ratio50 = pct(took, 50) / pct(base[span], 50)
            ratio99 = pct(took, 99) / pct(base[span], 99)
            lines.append(
                f"| {way}: {span} from the middle | {pct(took, 50):.2f} | {pct(took, 99):.2f} | "
                f"{ratio50:.1f}× | {ratio99:.1f}× |"
            )
    return "\n".join(lines)


def check_range(port: int, path: str, headers: dict, expected: bytes) -> None:
    """One request of a row, its bytes compared with the file's: a row measures the right answer."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if (response.status, body) != (206, expected):
        raise RuntimeError(f"{path} {headers.get('Range')}: {response.status}, {len(body)} bytes")


def uptime() -> str:
    return subprocess.run([UPTIME], capture_output=True, text=True).stdout.strip()


def current_subsection() -> str:
    """The voice and video subsection now in RESULTS' "## Media" ("" if none): kept by a photos-only run."""
    from harness import RESULTS

    old = RESULTS.read_text() if RESULTS.exists() else ""
    start = old.find("\n## Media\n")
    at = old.find(f"\n{SUBSECTION}\n", start) if start >= 0 else -1
    if at < 0:
        return ""
    end = old.find("\n## ", at + 1)
    return old[at + 1 : end if end >= 0 else len(old)].rstrip()


def replace_subsection(text: str) -> None:
    """Writes `text` (which starts with SUBSECTION) into "## Media" of RESULTS, replacing the one there."""
    from harness import RESULTS

    old = RESULTS.read_text()
    start = old.index("\n## Media\n")
    end = old.find("\n## ", start + 1)
    end = len(old) if end < 0 else end
    section = old[start:end]
    at = section.find(f"\n{SUBSECTION}\n")
    if at >= 0:
        after = section.find("\n### ", at + 1)
        section = section[:at] + "\n" + text.rstrip() + "\n" + (section[after:] if after >= 0 else "")
    else:
        section = section.rstrip() + "\n\n" + text.rstrip() + "\n"
    RESULTS.write_text(old[:start] + section + old[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="processing repetitions (after one warm-up)")
    parser.add_argument("--feed-posts", type=int, default=20, help="photo posts on the feed page")
    parser.add_argument("--requests", type=int, default=500, help="requests per fetch row")
    parser.add_argument("--before", metavar="REF", help="also measure a worker of this git ref (e.g. main)")
    parser.add_argument(
        "--only",
        choices=("photos", "voice-video"),
        help="one part; the other's figures in bench/RESULTS.md are kept (voice-video rewrites its subsection only)",
    )
    parser.add_argument("--video-seconds", type=int, default=60, help="length of the 1080p test video")
    parser.add_argument("--video-preset", default="ultrafast", help="libx264 preset the test video is made with")
    parser.add_argument("--video-reps", type=int, default=3, help="video processing repetitions (after one warm-up)")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args()
    photos, voice_video = args.only != "voice-video", args.only != "photos"
    if not os.access(NGINX, os.X_OK):
        sys.exit(f"{NGINX} is missing (apt-get install nginx)")
    # Other work on the machine stretches wall times (CPU times and same-run ratios hold up better).
    load_at_start = os.getloadavg()[0]
    uptime_at_start = uptime()
    before_commit = None
    if args.before:
        before_commit = subprocess.run(
            [GIT, "rev-parse", "--short", args.before], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="tandem-media-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # run as root, nginx's workers become the checkout's owner
        media_root = tmp / "media"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "DEBUG": "false",
            "MEDIA_ROOT": str(media_root),
            "MEDIA_SERVE": "accel",
            "TRUSTED_PROXY_COUNT": "1",
        }
        env.pop("REDIS_URL", None)
        data = migrate_and_seed(env, SETUP)
        media_root.chmod(0o755)

        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        if photos:
            print("processing ...", file=sys.stderr)
            processing = measure_processing(args.reps)
            print(processing_table(processing), file=sys.stderr)
            print("the feed's photos ...", file=sys.stderr)
            originals = seed_feed(args.feed_posts)
        if voice_video:
            print("a 1080p video: probe and poster ...", file=sys.stderr)
            video_path = test_video(args.video_seconds, args.video_preset)
            video = measure_video(video_path, args.video_reps)
            attach_to_a_message(video["media"], data["conversation"])
            print(video_table(video), file=sys.stderr)

        processes = []
        try:
            ports = {}
            workers = {"after": ROOT}
            if args.before and photos:
                workers = {"before": exported(args.before, tmp / "before"), **workers}
            for label, tree in workers.items():
                worker_port, nginx_port = free_port(), free_port()
                log = tmp / f"daphne-{label}.log"
                processes.append(start_daphne("config.asgi:application", worker_port, log, cwd=tree, env=env))
                processes.append(start_nginx(tmp / f"nginx-{label}", nginx_port, worker_port, media_root))
                ports[label] = nginx_port
            member_token = {"Authorization": f"Token {data['tokens'][data['member']]}"}
            member_cookie = {"Cookie": f"sessionid={data['session']}"}
            if photos:
                floor_port, floor_nginx = free_port(), free_port()
                processes.append(
                    start_daphne("floor_app:application", floor_port, tmp / "floor.log", cwd=ROOT / "bench")
                )
                processes.append(start_nginx(tmp / "nginx-floor", floor_nginx, floor_port, media_root))
                keys = data["keys"]
                worker_rows = [
                    ("a message's photo, a member's token", f"/media/{keys['message']}/display", member_token, 200),
                    (
                        "a followers-only post's photo, a follower's token",
                        f"/media/{keys['followers']}/display",
                        member_token,
                        200,
                    ),
                    (
                        "a followers-only post's thumbnail, a follower's session cookie (a feed page's fetch)",
                        f"/media/{keys['followers']}/thumbnail",
                        member_cookie,
                        200,
                    ),
                    ("a public post's photo, nobody signed in", f"/media/{keys['public']}/display", {}, 200),
                    ("a key that does not exist, a token (404)", "/media/no-such-key/display", member_token, 404),
                ]
                fixed_rows = [
                    ("nginx alone: the photo as a static file", STATIC_PREFIX + data["display"], {}, 200),
                    ("nginx alone: the thumbnail as a static file", STATIC_PREFIX + data["thumbnail"], {}, 200),
                ]
                floor = "the floor: nginx and daphne, an app that answers at once (no Django, no check)"
                floor_rows = [(floor, f"/media/{data['display']}", {}, 200)]
                print("fetches ...", file=sys.stderr)
                baselines = measure_rows(fixed_rows, [ports["after"]], args.requests)
                baselines += measure_rows(floor_rows, [floor_nginx], args.requests)
                figures = measure_rows(worker_rows, list(ports.values()), args.requests)
                feed = feed_page_bytes(ports["after"], member_token, originals)
            if voice_video:
                # A worker answering ranges itself (MEDIA_SERVE=direct): behind its own nginx, and alone.
                direct_port, direct_nginx = free_port(), free_port()
                log = tmp / "daphne-direct.log"
                direct_env = {**env, "MEDIA_SERVE": "direct"}
                processes.append(start_daphne("config.asgi:application", direct_port, log, env=direct_env))
                processes.append(start_nginx(tmp / "nginx-direct", direct_nginx, direct_port, media_root))
                media = video["media"]
                whole = (media_root / media.display_name).read_bytes()
                static_rows, view_rows = range_rows(media.display_name, media.key, len(whole), member_token)
                ways = [
                    ("the view (accel) behind nginx: the worker checks, nginx sends the range", ports["after"]),
                    ("the view (direct) behind nginx: the worker checks and sends the range", direct_nginx),
                    ("the view (direct), daphne alone, no nginx", direct_port),
                ]
                for _name, path, headers, _ in static_rows:
                    first, last = map(int, headers["Range"].removeprefix("bytes=").split("-"))
                    check_range(ports["after"], path, headers, whole[first : last + 1])
                    for _, port in ways:
                        check_range(
                            port, f"/media/{media.key}/display", {**headers, **member_token}, whole[first : last + 1]
                        )
                print("range requests ...", file=sys.stderr)
                static_figures = measure_rows(static_rows, [ports["after"]], args.requests)
                range_figures = [(way, view_rows, measure_rows(view_rows, [port], args.requests)) for way, port in ways]
        finally:
            for process in reversed(processes):
                stop(process)

    command = "make bench-media" + (f" ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else "")
    voice_video_text = ""
    if voice_video:
        probed = video["probed"]
        voice_video_text = "\n".join(
            [
                SUBSECTION,
                "",
                f"Command: `{command}`, finished {dt.datetime.now(dt.UTC):%H:%M} UTC on "
                f"{dt.datetime.now(dt.UTC):%Y-%m-%d}. Load (`uptime`) at the start: `{uptime_at_start}`; "
                f"at the end: `{uptime()}` (other work shares this machine: same-run ratios hold up better "
                "than times).",
                "",
                f"A {probed.duration:.0f}-second {probed.width}×{probed.height} {VIDEO_FPS} fps H.264 + AAC MP4 "
                f"({kib(video['size'])}; FFmpeg's moving test pattern `testsrc2` and a tone, encoded at bench time "
                f"with the libx264 that PyAV bundles, preset {args.video_preset}, CRF {VIDEO_CRF}), "
                f"median of {video['reps']} rounds after a warm-up, in one process; "
                "CPU is the process's (decoding uses threads). "
                "The baseline: PyAV opening the same bytes and decoding the first second's frames.",
                "",
                video_table(video),
                "",
                f"Range requests for that video as served (the remuxed file, {kib(len(whole))}), attached to a "
                f"chat message and fetched with a member's token; {args.requests} requests a row after a tenth more "
                "as warm-up, one at a time on one kept-alive connection; each row's answer checked once against "
                "the file's bytes. nginx alone: the same nginx sending the same file from a plain static "
                "location, the same Range header.",
                "",
                range_table(static_rows, static_figures, range_figures),
            ]
        )
        print(voice_video_text, file=sys.stderr)
    if photos:
        fetches = "\n\n".join(
            [
                baseline_table(fixed_rows + floor_rows, baselines),
                worker_table(worker_rows, figures, baselines, before_commit),
            ]
        )
        print(processing_table(processing), feed_table(feed), fetches, sep="\n\n")
    if args.no_write:
        return
    if not photos:
        replace_subsection(voice_video_text)
        return
    text = "\n".join(
        [
            f"Processing one 12-megapixel photo ({kib(processing['sizes']['original'])} JPEG, quality 90, EXIF "
            f"orientation 6 and GPS), median of {processing['reps']} runs after a warm-up, in one process; "
            "photos per second per core = 1 / CPU seconds:",
            "",
            processing_table(processing),
            "",
            f"A page of {feed['photos']} public photo posts, each photo its own 12-megapixel JPEG: a member "
            "fetches the page (GET /api/timeline/public/) and every post's thumbnail_url through nginx:",
            "",
            feed_table(feed),
            "",
            f"Fetches: one daphne worker (SQLite, MEDIA_SERVE=accel) behind Debian's nginx, {args.requests} requests "
            f"a row after a tenth more as warm-up, one at a time on one kept-alive connection; the photo is a "
            f"{kib(data['sizes']['display'])} WebP, the thumbnail {kib(data['sizes']['thumbnail'])}"
            + (
                f". Before: a worker of {args.before}"
                + (f" ({before_commit})" if not before_commit.startswith(args.before) else "")
                + f", measured in the same run, batches of "
                f"{BATCH} requests alternating with after's."
                if args.before
                else "."
            ),
            "",
            fetches,
            "",
            voice_video_text or current_subsection(),
        ]
    )
    load = f"; 1-minute load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    write_section("Media", command, text, run=f" on {dt.datetime.now(dt.UTC):%Y-%m-%d}", on_machine=load)


if __name__ == "__main__":
    main()
