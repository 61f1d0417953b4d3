"""H.264 that browsers cannot play: 10-bit (High 10) and 4:2:2/4:4:4 chroma, refused at upload with a
reason (400, nothing stored); 8-bit 4:2:0, in TV or full range, taken. The clips are made now with
the libx264 that PyAV bundles, which writes each of these pixel formats."""

from io import BytesIO

import av
import pytest

from media.models import Media
from tests.media.av_files import make_video
from tests.media.conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("pixel_format", "profile"),
    [("yuv420p10le", "High 10"), ("yuv422p", "High 4:2:2"), ("yuv444p", "High 4:4:4 Predictive")],
)
def test_h264_that_browsers_cannot_play_is_refused_with_a_reason(client_for, alice, upload, pixel_format, profile):
    data = make_video("mp4", "libx264", audio_codec="aac", pixel_format=pixel_format)
    with av.open(BytesIO(data)) as made:  # the clip is what the test says it is
        assert (made.streams.video[0].codec_context.profile, made.streams.video[0].format.name) == (
            profile,
            pixel_format,
        )
    response = upload(client_for(alice), data, name="clip.mp4", content_type="video/mp4")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == "unsupported_codec"
    assert profile in answer["detail"] and "8-bit 4:2:0" in answer["detail"]
    assert not Media.objects.exists() and stored_files() == []


@pytest.mark.parametrize("pixel_format", ["yuv420p", "yuvj420p"])
def test_8_bit_420_h264_is_taken(client_for, alice, uploaded, pixel_format):
    data = make_video("mp4", "libx264", audio_codec="aac", pixel_format=pixel_format)
    media = uploaded(client_for(alice), data, name="clip.mp4", content_type="video/mp4")
    assert media["kind"] == "video" and media["status"] == "ready"
