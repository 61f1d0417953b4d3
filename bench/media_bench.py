"""What the privacy check costs a photo fetch: nginx sending a file itself against the same file
sent by nginx after a daphne worker's check (MEDIA_SERVE=accel, as `make run-nginx` runs it).

    .venv/bin/python bench/media_bench.py [--requests 500] [--no-write]

One worker on a fresh temp SQLite file, nginx rendered by deploy/nginx/render.py with one extra
location that serves the media directory as plain static files (the comparison; never in the
deployed config). Requests go one at a time over one kept-alive connection (latency, not
throughput); the first tenth of each run is a warm-up and is not counted. Each row fetches the
same display file (a 1600x1200 WebP); the photo rows differ in whose rule the worker asks
(media.access: a message's members, a followers-only post's audience, a public post's).
The section "## Media" of bench/RESULTS.md is replaced with the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BIN,
    HOST,
    ROOT,
    free_port,
    machine,
    migrate_and_seed,
    pct,
    replace_section,
    start_ours,
    stop,
    wait_port,
)

NGINX = "/usr/sbin/nginx"
STATIC_PREFIX = "/_bench-static/"

SETUP = r"""
import io, json, random
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw
from accounts.models import User
from accounts.services import token_for
from chat.services import contact_request_accept, contact_request_send, message_send
from media.models import Media
from microblog.services import post_create, user_follow

def user(name):
    u = User(username=name)
    u.set_unusable_password()
    u.save()
    return u

author, member = user("author"), user("member")
request, _ = contact_request_send(sender=author, to_username="member")
conversation = contact_request_accept(user=member, request_id=request.pk)[1]
user_follow(follower=member, followee=author)

# A photo-like picture: shapes and gradients, about what a 2048-px display file weighs per pixel.
rng = random.Random(15)
image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
draw = ImageDraw.Draw(image)
for _ in range(400):
    x, y = rng.randrange(1600), rng.randrange(1200)
    color = tuple(rng.randrange(256) for _ in range(3))
    draw.ellipse((x, y, x + rng.randrange(10, 200), y + rng.randrange(10, 200)), fill=color)
out = io.BytesIO()
image.save(out, "WEBP", quality=80)
display = default_storage.save("bench/display.webp", ContentFile(out.getvalue()))

def photo(kind, item_id):
    return Media.objects.create(
        owner=author, status="ready", display_name=display, display_type="image/webp",
        thumbnail_name=display, thumbnail_type="image/webp", width=1600, height=1200,
        attached_kind=kind, attached_id=item_id, attached_at=timezone.now(),
    ).key

message, _ = message_send(sender=author, conversation=conversation, body="a photo")
keys = {
    "message": photo("message", message.pk),
    "followers": photo("post", post_create(author=author, body="f", visibility="followers").pk),
    "public": photo("post", post_create(author=author, body="p").pk),
}
print("BENCH_JSON " + json.dumps({
    "keys": keys, "display": display, "size": default_storage.size(display),
    "tokens": {u.pk: token_for(user=u).key for u in (author, member)}, "member": member.pk,
}))
"""


def start_nginx(prefix: Path, port: int, upstream: int, media_root: Path) -> subprocess.Popen:
    render = [str(BIN / "python"), str(ROOT / "deploy/nginx/render.py"), "--prefix", str(prefix)]
    render += ["--listen", f"{HOST}:{port}", "--upstream", f"{HOST}:{upstream}", "--static-root", str(ROOT / "static")]
    render += ["--media-root", str(media_root)]
    subprocess.run(render, check=True, capture_output=True)
    conf = prefix / "nginx.conf"
    # The comparison: the same directory as plain static files, in the same server.
    static = f"        location {STATIC_PREFIX} {{\n            alias {media_root}/;\n        }}\n\n"
    conf.write_text(conf.read_text().replace("        location / {", static + "        location / {", 1))
    command = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
    process = subprocess.Popen(command)
    wait_port(port, process)
    return process


def timed(port: int, path: str, headers: dict, requests: int, status: int) -> list[float]:
    """Milliseconds per request, one at a time on one connection, the warm-up dropped."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        took.append((time.perf_counter() - started) * 1000)
        if response.status != status:
            raise RuntimeError(f"{path}: {response.status}, expected {status}")
    connection.close()
    return took[requests // 10 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per row")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args()
    if not os.access(NGINX, os.X_OK):
        sys.exit(f"{NGINX} is missing (apt-get install nginx)")
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
        worker_port, nginx_port = free_port(), free_port()
        worker = start_ours(worker_port, env, tmp / "daphne.log")
        nginx = None
        try:
            nginx = start_nginx(tmp / "nginx", nginx_port, worker_port, media_root)
            member = {"Authorization": f"Token {data['tokens'][data['member']]}"}
            keys = {kind: f"/media/{key}/display" for kind, key in data["keys"].items()}
            rows = [
                ("nginx alone: the file as a static file", STATIC_PREFIX + data["display"], {}, 200),
                ("a message's photo, a member's token", keys["message"], member, 200),
                ("a followers-only post's photo, a follower", keys["followers"], member, 200),
                ("a public post's photo, nobody signed in", keys["public"], {}, 200),
                ("a key that does not exist, a token (404)", "/media/no-such-key/display", member, 404),
            ]
            figures = [(name, timed(nginx_port, path, sent, args.requests, want)) for name, path, sent, want in rows]
        finally:
            stop(nginx)
            stop(worker)
    static_p50 = pct(figures[0][1], 50)
    lines = [
        "| fetch | p50 ms | p99 ms | p50 / nginx alone |",
        "|---|---|---|---|",
        *[
            f"| {name} | {pct(took, 50):.2f} | {pct(took, 99):.2f} | {pct(took, 50) / static_p50:.1f}× |"
            for name, took in figures
        ],
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        section = "\n".join(
            [
                "## Media",
                "",
                f"Command: `python bench/media_bench.py --requests {args.requests}`, finished "
                f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. One daphne worker (SQLite, MEDIA_SERVE=accel) "
                f"behind Debian's nginx; a {data['size'] // 1024} KiB WebP; one request at a time on one "
                "kept-alive connection.",
                "",
                f"Machine: {machine()}.",
                "",
                table,
                "",
            ]
        )
        replace_section("Media", section)


if __name__ == "__main__":
    main()
