"""The floor of any photo fetch that asks a Python worker: an ASGI app that checks nothing.

GET /media/<name> answers at once with `X-Accel-Redirect: /_protected-media/<name>`, as
media.views does after its check with MEDIA_SERVE=accel; nginx then sends the file. What
bench/media_bench.py measures through it is daphne and nginx's proxying alone: no Django, no
query. Never part of Tandem.
"""

ACCEL_PREFIX = b"/_protected-media/"


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    name = scope["raw_path"].removeprefix(b"/media/")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"image/webp"), (b"x-accel-redirect", ACCEL_PREFIX + name)],
        }
    )
    await send({"type": "http.response.body", "body": b""})
