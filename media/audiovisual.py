"""Voice clips and videos: what an upload is (decided by FFmpeg's demuxers, through PyAV), and its files.

Like photos (media.inspect), neither the file's name nor its Content-Type count: the container is
the one FFmpeg recognises in the bytes, and the codecs are those its streams declare. Accepted:

- voice (kind "audio"): one audio stream, Opus in WebM/Matroska or Ogg (Chrome's and Firefox's
  MediaRecorder), or AAC in MP4/M4A (Safari's); no video stream. MP3, Vorbis, FLAC, WAV, ... are
  refused: recorders do not make them, and a narrow set keeps what players must handle small
  (`not_an_image`, the code of a file that is none of the three kinds, outside these containers;
  `unsupported_codec` for another codec inside them). At most MEDIA_AUDIO_MAX_SECONDS and MEDIA_AUDIO_MAX_BYTES.
- video: H.264 (with AAC audio or none) in MP4/QuickTime, or VP8/VP9/AV1 (with Opus or Vorbis
  audio or none) in WebM/Matroska: what every current browser plays. MPEG-4 Part 2, HEVC (Chrome
  and Firefox on most systems cannot), ... are refused. At most MEDIA_VIDEO_MAX_SECONDS and
  MEDIA_VIDEO_MAX_BYTES, and VIDEO_MAX_PIXELS a frame. H.264 only as 8-bit 4:2:0: High 10, 4:2:2
  and 4:4:4 are refused (browsers cannot play them).

`probe` opens the container and reads every packet's timing without decoding anything: that is
what the duration needs (MediaRecorder's WebM carries none in its header) and what finds a file cut
short. Refusals are media.inspect.MediaRefused (400, a `code`, a reason).

`remux` copies the packets into a new container of the same family with no metadata at all (no
title, encoder, creation time, location, device: FFmpeg's bitexact mode, no tags copied), without
re-encoding. `waveform` and `poster` decode, off the request (media.processing).
"""

import tempfile
from array import array
from dataclasses import dataclass
from io import BytesIO

import av
from django.conf import settings
from PIL import Image, ImageStat

from .inspect import MediaRefused

# FFmpeg's demuxer names (av's `container.format.name`) -> the family Tandem writes back.
# How Matroska/WebM files start (an ISO media file has "ftyp" at byte 4).
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
MATROSKA_FAMILY = "matroska,webm"
OGG_FAMILY = "ogg"
AUDIO_CODECS = {MATROSKA_FAMILY: {"opus"}, OGG_FAMILY: {"opus"}, MP4_FAMILY: {"aac"}}
VIDEO_CODECS = {MP4_FAMILY: {"h264"}, MATROSKA_FAMILY: {"vp8", "vp9", "av1"}}
# The pixel formats of 8-bit 4:2:0 H.264 (yuvj420p: the same with full-range levels, as phones write).
H264_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
VIDEO_AUDIO_CODECS = {MP4_FAMILY: {"aac"}, MATROSKA_FAMILY: {"opus", "vorbis"}}
SOURCE_FORMATS = {MP4_FAMILY: "MP4", MATROSKA_FAMILY: "WEBM", OGG_FAMILY: "OGG"}
# The muxer written, its extension, and the content type served, per family and kind.
OUTPUTS = {
    ("audio", MATROSKA_FAMILY): ("webm", "webm", "audio/webm"),
    ("audio", OGG_FAMILY): ("ogg", "ogg", "audio/ogg"),
    ("audio", MP4_FAMILY): ("ipod", "m4a", "audio/mp4"),
    ("video", MATROSKA_FAMILY): ("webm", "webm", "video/webm"),
    ("video", MP4_FAMILY): ("mp4", "mp4", "video/mp4"),
}
# 4K in either orientation, twice over (any aspect ratio): past it no phone records, and decoding
# a poster frame would take a worker's memory.
VIDEO_MAX_PIXELS = 2 * 3840 * 2160
WAVEFORM_BARS = 48
# Where the poster is looked for: the first frame from here that is not (nearly) black.
POSTER_AT_SECONDS = 1.0
POSTER_SEARCH_FRAMES = 60
# Mean brightness (0..255) at or below which a frame counts as black (a fade-in, a covered lens).
BLACK_LEVEL = 16


@dataclass(frozen=True)
class Probed:
    kind: str  # "audio" or "video"
    family: str  # one of the keys of OUTPUTS' second half
    video_codec: str
    audio_codec: str
    duration: float
    width: int | None
    height: int | None

    @property
    def source_format(self) -> str:
        return SOURCE_FORMATS[self.family]

    @property
    def output(self) -> tuple[str, str, str]:
        """(FFmpeg muxer, file extension, content type) of the file served."""
        return OUTPUTS[(self.kind, self.family)]


def _not_media() -> MediaRefused:
    # The photos' code, kept for whatever is none of the three: clients already show its reason.
    return MediaRefused(
        "not_an_image",
        "This file is not a photo, voice message or video Tandem accepts (JPEG, PNG, WebP, GIF, HEIC; "
        "Opus or AAC audio; MP4 with H.264 or WebM with VP8, VP9 or AV1).",
    )


def _open(source):
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    try:
        return av.open(source, "r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        # An MP4 or WebM whose header is there but that FFmpeg cannot read: most often a recording
        # cut short (an MP4 written index last, its "moov" box missing), else a damaged one.
        if head[4:8] == b"ftyp" or head.startswith(EBML_MAGIC):
            raise _truncated() from exc
        raise _not_media() from exc


def _truncated() -> MediaRefused:
    return MediaRefused("truncated", "This recording is incomplete or damaged: it cannot be read to its end.")


def _duration(container, streams) -> float:
    """Seconds from the first packet to the end of the last, every packet read (not decoded).

    A packet the demuxer could read only part of, or packets ending well before the duration the
    header announces (an MP4 whose index promises more than the file holds), make it `truncated`.
    """
    end = 0.0
    start = None
    try:
        for packet in container.demux(*streams):
            if packet.is_corrupt:
                raise _truncated()
            if packet.pts is None or packet.time_base is None:
                continue
            at = float(packet.pts * packet.time_base)
            start = at if start is None else min(start, at)
            end = max(end, at + float((packet.duration or 0) * packet.time_base))
    except av.error.FFmpegError as exc:
        raise _truncated() from exc
    if start is None:
        raise MediaRefused("truncated", "This recording holds no sound or picture.")
    duration = max(0.0, end - max(0.0, start))
    announced = container.duration / av.time_base if container.duration else None
    if announced is not None and duration < announced * 0.9 - 0.25:
        raise _truncated()
    return duration


def probe(source, *, wanted: str | None = None) -> Probed:
    """What the audio or video in `source` (a file object or path) is; MediaRefused if Tandem does not take it.

    `wanted` ("audio" or "video"), when the sender said what it sends (a voice recorder does):
    a file that is not that is refused (a WebM with no sound as a voice message).
    """
    with _open(source) as container:
        family = container.format.name
        if family not in SOURCE_FORMATS:
            # FFmpeg reads far more (MP3, WAV, AVI, SVG, image sequences, ...): none is taken.
            raise _not_media()
        videos = [s for s in container.streams.video if not _is_cover_art(s)]
        audios = list(container.streams.audio)
        video = videos[0] if videos else None
        audio = audios[0] if audios else None
        kind = "video" if video is not None else "audio" if audio is not None else None
        if kind is None:
            raise _not_media()
        if wanted == "audio" and (audio is None or video is not None):
            raise MediaRefused("not_audio", "A voice message must be a sound recording only, with an audio track.")
        if wanted == "video" and video is None:
            raise MediaRefused("not_video", "This file has no video track.")
        audio_codec, video_codec = _codec_name(audio), _codec_name(video)
        if kind == "audio":
            if len(audios) > 1 or audio_codec not in AUDIO_CODECS.get(family, ()):
                raise MediaRefused(
                    "unsupported_codec",
                    f"This recording's sound ({audio_codec or family}) is not one Tandem takes: "
                    "Opus (WebM or Ogg) or AAC (MP4/M4A).",
                )
        else:
            if video_codec not in VIDEO_CODECS.get(family, ()) or len(videos) > 1:
                raise MediaRefused(
                    "unsupported_codec",
                    f"This video's picture ({video_codec}) is not one browsers play: "
                    "MP4 with H.264, or WebM with VP8, VP9 or AV1.",
                )
            _check_h264_profile(video, video_codec)
            if len(audios) > 1 or (audio is not None and audio_codec not in VIDEO_AUDIO_CODECS[family]):
                raise MediaRefused(
                    "unsupported_codec",
                    f"This video's sound ({audio_codec}) is not one browsers play with it: "
                    "AAC in MP4, Opus or Vorbis in WebM.",
                )
            width, height = video.codec_context.width, video.codec_context.height
            if not width or not height:
                raise MediaRefused("corrupt", "This video's picture has no size.")
            if width * height > VIDEO_MAX_PIXELS:
                raise MediaRefused("too_many_pixels", "This video's picture is larger than Tandem takes (4K).")
        limit = settings.MEDIA_AUDIO_MAX_SECONDS if kind == "audio" else settings.MEDIA_VIDEO_MAX_SECONDS
        duration = _duration(container, [s for s in (video, audio) if s is not None])
        # A recorder's last frame may end a few milliseconds past a whole-second limit.
        if duration > limit + 0.05:
            noun = "Voice messages" if kind == "audio" else "Videos"
            raise MediaRefused("too_long", f"{noun} are limited to {limit} seconds.")
        return Probed(
            kind=kind,
            family=family,
            video_codec=video_codec,
            audio_codec=audio_codec,
            duration=round(duration, 3),
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
        )


def _check_h264_profile(video, video_codec: str) -> None:
    """H.264 as browsers decode it: 8-bit 4:2:0 (Baseline, Main, High). High 10, High 4:2:2 and
    High 4:4:4 (what some cameras and screen recorders write) play in no browser without a
    hardware decoder that has them, so they are refused rather than shown as a broken player."""
    if video_codec != "h264":
        return
    pixel_format = video.codec_context.pix_fmt
    if pixel_format is None or pixel_format in H264_PIXEL_FORMATS:
        return  # not stated in the stream's parameters: left to the decoder, as before
    profile = video.codec_context.profile or "H.264"
    raise MediaRefused(
        "unsupported_codec",
        f"This video is H.264 {profile} ({pixel_format}), which browsers cannot play: "
        "H.264 must be 8-bit 4:2:0 (Baseline, Main or High profile).",
    )


def _codec_name(stream) -> str:
    """FFmpeg's name of the stream's format ("h264", "opus"; "" for none, "unknown" for one it has no decoder of)."""
    if stream is None:
        return ""
    codec = stream.codec_context.codec if stream.codec_context is not None else None
    return codec.canonical_name if codec is not None else "unknown"


def _is_cover_art(stream) -> bool:
    # An M4A's album picture is a one-frame "video" stream (attached_pic): not a video.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def remux(data: bytes, probed: Probed) -> bytes:
    """The same packets in a new container of the same family: no metadata, nothing re-encoded.

    Only the stream(s) `probe` chose are kept (no cover art, subtitles, data tracks); no container
    or stream tags are written (FFmpeg's bitexact mode also leaves out its encoder tag).
    """
    muxer, extension, _ = probed.output
    # A file on disk, not memory: moving the MP4 index to the front (faststart, so playback starts
    # before the whole file is fetched) is a second pass over what was written.
    with tempfile.NamedTemporaryFile(suffix=f".{extension}") as written:
        _remux_to(data, probed, muxer, written.name)
        written.seek(0)
        return written.read()


def _remux_to(data: bytes, probed: Probed, muxer: str, path: str) -> None:
    with av.open(BytesIO(data), "r") as source:
        kept = [s for s in source.streams.video if not _is_cover_art(s)][:1] if probed.kind == "video" else []
        kept += list(source.streams.audio)[:1]
        options = {"movflags": "+faststart"} if muxer in ("mp4", "ipod") else {}
        with av.open(path, "w", format=muxer, options=options) as output:
            output.flags |= av.container.Flags.bitexact.value
            mapping = {}
            for stream in kept:
                copy = output.add_stream_from_template(stream, opaque=True)
                copy.metadata.clear()
                mapping[stream.index] = copy
            for packet in source.demux(*kept):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                packet.stream = mapping[packet.stream_index]
                output.mux(packet)


def waveform(data: bytes, bars: int = WAVEFORM_BARS) -> list[float]:
    """The loudest sample of each of `bars` equal slices of the recording, 0..1 (rounded to 0.01)."""
    peaks: list[float] = []
    with av.open(BytesIO(data), "r") as source:
        stream = source.streams.audio[0]
        # Mono 16-bit at a low rate: a waveform needs no more, and the array stays small.
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        samples = array("h")
        for frame in source.decode(stream):
            for resampled in resampler.resample(frame):
                samples.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
        for resampled in resampler.resample(None):
            samples.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
    if not samples:
        return [0.0] * bars
    for bar in range(bars):
        start = bar * len(samples) // bars
        end = max(start + 1, (bar + 1) * len(samples) // bars)
        chunk = samples[start:end]
        peaks.append(max(abs(min(chunk)), max(chunk)) if chunk else 0)
    return [round(min(1.0, peak / 32767), 2) for peak in peaks]


def poster(data: bytes) -> Image.Image:
    """The video's poster: the first frame from POSTER_AT_SECONDS on that is not black (else the
    first frame decoded), as an RGB image at the picture's size, upright as players show it."""
    with av.open(BytesIO(data), "r") as source:
        stream = next(s for s in source.streams.video if not _is_cover_art(s))
        stream.thread_type = "AUTO"
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        at = POSTER_AT_SECONDS if duration is None or duration > POSTER_AT_SECONDS else 0.0
        if at and stream.time_base:
            # Backwards to the keyframe before: the frames decoded from there include `at`.
            source.seek(int(at / stream.time_base), stream=stream, backward=True)
        first = None
        last = None
        for seen, frame in enumerate(source.decode(stream)):
            last = frame
            if frame.pts is not None and frame.time_base is not None and float(frame.pts * frame.time_base) < at:
                continue
            image = _upright(frame)
            if first is None:
                first = image
            if ImageStat.Stat(image.convert("L")).mean[0] > BLACK_LEVEL or seen >= POSTER_SEARCH_FRAMES:
                return image
        if first is not None:
            return first
        if last is None:
            raise ValueError("the video holds no decodable frame")
        return _upright(last)


# A frame's display rotation (counter-clockwise degrees, FFmpeg's display matrix: a phone held
# upright records landscape frames and says -90) -> what turns the picture as players show it.
TURNS = {-90: Image.Transpose.ROTATE_270, 270: Image.Transpose.ROTATE_270, 90: Image.Transpose.ROTATE_90}
TURNS.update({180: Image.Transpose.ROTATE_180, -180: Image.Transpose.ROTATE_180})


def _upright(frame) -> Image.Image:
    """The frame as players show it: turned by its display matrix (the stored file keeps the matrix)."""
    image = frame.to_image()
    turn = TURNS.get(round(getattr(frame, "rotation", 0) or 0))
    return image.transpose(turn) if turn is not None else image
