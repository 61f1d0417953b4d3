"""`make screenshots`: PNGs of Tandem's main pages at a phone's and a desktop's width, in the light and
the dark theme, so a reviewer can look without running anything.

A daphne of its own serves a fresh SQLite database (in a temporary folder) seeded with the demo data,
with DEBUG off as `make run` has it; Chromium (/usr/bin/chromium) signs in as alice and visits each
page. Files: OUT/<theme>-<width>-<page>.png (OUT is git-ignored).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
THEMES = ("light", "dark")
SIGNED_OUT = {"welcome": "/", "login": "/login/", "signup": "/signup/"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    """Migrates and seeds a fresh database in `folder`, then starts daphne on it; (process, base URL)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "MEDIA_PROCESSING": "thread",
        "DEBUG": "false",
        "WHITENOISE_USE_FINDERS": "1",  # static/ as it is, without a collectstatic
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    process = subprocess.Popen(
        [python, "-m", "config.serve", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("daphne did not start") from None
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


def signed_in_pages() -> dict[str, str]:
    """The main pages, with ids read from the seeded database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from accounts.models import User
    from articles.models import Article
    from chat.selectors import conversations_for
    from microblog.models import Hashtag, Post
    from microblog.text import tag_path

    alice = User.objects.get(username="alice")
    post = Post.objects.filter(deleted_at__isnull=True, repost_of__isnull=True).order_by("-like_count", "-pk").first()
    tag = Hashtag.objects.order_by("pk").first()
    conversation = conversations_for(alice).first()
    pages = {"feed": "/", "explore": "/explore/", "profile": "/u/bob/", "notifications": "/notifications/"}
    if tag:
        pages["tag"] = tag_path(tag.name)
    if post:
        pages["post"] = f"/p/{post.pk}/"
    pages["chats"] = "/chat/"
    if conversation:
        pages["chat"] = f"/chat/{conversation.pk}/"
    pages |= {"contacts": "/contacts/", "settings": "/settings/", "404": "/no-such-page/"}
    # Alice's demo channel (chat.channel_demo): its page, her dashboard and inbox; one of its articles.
    pages |= {"channel": "/c/tandemtravel/", "dashboard": "/c/tandemtravel/dashboard/"}
    pages |= {"inbox": "/c/tandemtravel/inbox/", "write": "/write/"}
    article = Article.objects.filter(author=alice, status="published").order_by("pk").first()
    if article:
        pages["article"] = f"/a/{article.pk}/"
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="folder for the PNGs (default: screenshots)")
    args = parser.parse_args()
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tandem-screens-") as folder:
        process, base_url = serve(Path(folder))
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder) / 'db.sqlite3'}"
        try:
            pages = signed_in_pages()
            from accounts.demo import DEMO_PASSWORD

            written = 0
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for theme in THEMES:
                    for width, viewport in WIDTHS.items():
                        context = browser.new_context(base_url=base_url, viewport=viewport, color_scheme=theme)
                        page = context.new_page()
                        for name, path in SIGNED_OUT.items():
                            page.goto(path, wait_until="load")
                            page.screenshot(path=out / f"{theme}-{width}-{name}.png")
                            written += 1
                        page.goto("/login/")
                        page.get_by_label("Username").fill("alice")
                        page.get_by_label("Password").fill(DEMO_PASSWORD)
                        page.get_by_role("button", name="Log in").click()
                        page.wait_for_url(f"{base_url}/")
                        for name, path in pages.items():
                            page.goto(path, wait_until="load")
                            page.wait_for_timeout(300)  # photos decode, relative times settle
                            page.screenshot(path=out / f"{theme}-{width}-{name}.png")
                            written += 1
                        context.close()
                browser.close()
            print(f"{written} screenshots in {out}")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
