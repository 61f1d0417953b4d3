"""Writes an nginx.conf for Tandem from tandem.conf.template: ports, paths and deadlines filled in.

    python deploy/nginx/render.py --prefix /tmp/tandem-nginx --listen 127.0.0.1:8080 \\
        --upstream 127.0.0.1:8000 --upstream 127.0.0.1:8001 --static-root staticfiles \\
        --media-root media-files

The workers behind it run with MEDIA_SERVE=accel (nginx sends uploaded files after their check,
from the internal location MEDIA_ACCEL_PREFIX over --media-root: their MEDIA_ROOT) and
TRUSTED_PROXY_COUNT=1 (nginx appends the client's address to X-Forwarded-For).

The security headers nginx adds to its own answers (static files, 413, 503) are built from
Tandem's settings, so they match what Django sends on every other response.
"""

import argparse
import grp
import os
import pwd
import sys
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import global_settings  # noqa: E402

from config.settings import base  # noqa: E402

TEMPLATE = HERE / "tandem.conf.template"


class NginxTemplate(Template):
    """Only `${TANDEM_...}` is a placeholder: nginx's own `$variables` pass through untouched."""

    pattern = r"""
    \$(?:
        (?P<escaped>(?!))
        | (?P<named>(?!))
        | {(?P<braced>TANDEM_[A-Z_]+)}
        | (?P<invalid>(?!))
    )
    """


DEFAULT_HEADER_TIMEOUT = 10
DEFAULT_BODY_TIMEOUT = 5
# Room for the multipart envelope around an upload of the largest kind (a video, MEDIA_VIDEO_MAX_BYTES):
# the part headers and the alt text (MEDIA_ALT_MAX_LENGTH characters, up to 4 bytes each), with plenty
# to spare. Django holds each kind (and the avatar form) to its own limit behind it (config.middleware).
UPLOAD_ENVELOPE = 64 * 1024
DEFAULT_MAX_UPLOAD_SIZE = (
    max(base.MEDIA_IMAGE_MAX_BYTES, base.MEDIA_AUDIO_MAX_BYTES, base.MEDIA_VIDEO_MAX_BYTES) + UPLOAD_ENVELOPE
)


def security_headers() -> dict[str, str]:
    """The headers Django's middleware puts on every response (config.middleware.SecurityHeadersMiddleware)."""
    directives = base.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    policy = "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": getattr(base, "X_FRAME_OPTIONS", global_settings.X_FRAME_OPTIONS),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": getattr(base, "SECURE_REFERRER_POLICY", global_settings.SECURE_REFERRER_POLICY),
        "Cross-Origin-Opener-Policy": getattr(
            base, "SECURE_CROSS_ORIGIN_OPENER_POLICY", global_settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        ),
    }


def user_directive() -> str:
    """Run as root, nginx's workers would become `nobody`; they become the checkout's owner instead."""
    if os.geteuid() != 0:
        return "# (not root: the workers run as whoever starts nginx)"
    owner = ROOT.stat()
    return f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};"


def render(
    *,
    prefix: Path,
    listen: str,
    upstreams: list[str],
    static_root: Path,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    max_body_size: int = base.DATA_UPLOAD_MAX_MEMORY_SIZE,
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE,
    media_root: Path = base.MEDIA_ROOT,
) -> str:
    headers = "\n".join(
        f'            add_header {name} "{value}" always;' for name, value in security_headers().items()
    )
    text = NginxTemplate(TEMPLATE.read_text()).substitute(
        TANDEM_PREFIX=str(prefix),
        TANDEM_USER=user_directive(),
        TANDEM_LISTEN=listen,
        TANDEM_UPSTREAM_SERVERS="\n".join(f"        server {address};" for address in upstreams),
        TANDEM_STATIC_ROOT=str(static_root.resolve()),
        TANDEM_HEADER_TIMEOUT=f"{header_timeout:g}",
        TANDEM_BODY_TIMEOUT=f"{body_timeout:g}",
        TANDEM_MAX_BODY_SIZE=str(max_body_size),
        TANDEM_MAX_UPLOAD_SIZE=str(max_upload_size),
        TANDEM_MEDIA_ACCEL_PREFIX=base.MEDIA_ACCEL_PREFIX,
        TANDEM_MEDIA_ROOT=str(Path(media_root).resolve()),
        TANDEM_SECURITY_HEADERS=headers,
    )
    if "${TANDEM_" in text:  # not an assert: `python -O` would skip it
        raise ValueError("a placeholder the template names is not filled")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", type=Path, required=True, help="directory for nginx.conf, pid, logs, temp files")
    parser.add_argument("--listen", default="127.0.0.1:8080", help="address nginx listens on")
    parser.add_argument("--upstream", action="append", required=True, help="a daphne worker's host:port (repeat)")
    parser.add_argument("--static-root", type=Path, default=ROOT / "staticfiles", help="collectstatic's STATIC_ROOT")
    parser.add_argument("--header-timeout", type=float, default=DEFAULT_HEADER_TIMEOUT, help="seconds (total)")
    parser.add_argument("--body-timeout", type=float, default=DEFAULT_BODY_TIMEOUT, help="seconds between reads")
    parser.add_argument("--max-body-size", type=int, default=base.DATA_UPLOAD_MAX_MEMORY_SIZE, help="bytes")
    parser.add_argument("--max-upload-size", type=int, default=DEFAULT_MAX_UPLOAD_SIZE, help="bytes, on /api/media/")
    parser.add_argument("--media-root", type=Path, default=base.MEDIA_ROOT, help="the workers' MEDIA_ROOT")
    args = parser.parse_args(argv)
    args.prefix.mkdir(parents=True, exist_ok=True)
    # Root-run nginx hands its temporary directories to the worker user; it must reach them.
    args.prefix.chmod(0o755)
    conf = render(
        prefix=args.prefix.resolve(),
        listen=args.listen,
        upstreams=args.upstream,
        static_root=args.static_root,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_body_size=args.max_body_size,
        max_upload_size=args.max_upload_size,
        media_root=args.media_root,
    )
    (args.prefix / "nginx.conf").write_text(conf)
    print(args.prefix / "nginx.conf")


if __name__ == "__main__":
    main()
