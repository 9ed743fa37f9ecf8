"""Analysis speed: seconds of audio analysed per second of wall time.

Generates a 3-minute 44.1 kHz stereo FLAC track (128 BPM kick/click pattern,
a bass line, hi-hat noise) and times ``analyze_file`` with every audio feature,
plus the decode step alone. Goal: >= 50x real time. Run:

    .venv/bin/python bench/analysis.py [--seconds 180] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from interpreter.analysis import AUDIO_FEATURES, analyze_file
from interpreter.analysis.decode import decode_audio

RATE = 44100


def make_track(path: Path, seconds: float, bpm: float = 128.0) -> None:
    """Write a synthetic stereo track with a steady beat to ``path``."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    y = np.zeros(n, np.float32)
    period = 60.0 / bpm
    kick_t = np.arange(int(0.15 * RATE)) / RATE
    kick = (
        np.sin(2 * np.pi * 60 * kick_t * (1 + 2 * np.exp(-kick_t * 30))) * np.exp(-kick_t * 18)
    ).astype(np.float32)
    for b in np.arange(0.1, seconds - 0.2, period):
        s = int(b * RATE)
        y[s : s + len(kick)] += 0.8 * kick[: n - s]
    y += (0.15 * np.sin(2 * np.pi * 55 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * t / 8))).astype(
        np.float32
    )
    hat = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 0.05
    y += hat * ((t / (period / 2)) % 1 < 0.1)
    stereo = np.clip(np.stack([y, y * 0.9]), -1, 1)
    pcm = (stereo * 32767).astype(np.int16)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=RATE, layout="stereo")
        for i in range(0, n, 4096):
            chunk = np.ascontiguousarray(pcm[:, i : i + 4096].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = i
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)


def make_video(
    path: Path, seconds: float, fps: int = 30, size: tuple[int, int] = (720, 1280)
) -> None:
    """Write an H.264 720p clip: drifting noise texture with a cut every 2 s."""
    h, w = size
    rng = np.random.default_rng(1)
    texture = rng.integers(0, 60, (h, w + 256), dtype=np.uint8)
    chroma = np.full((h // 2, w), 128, np.uint8)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        for i in range(int(seconds * fps)):
            level = 40 + 50 * ((i // (2 * fps)) % 3)
            y = texture[:, i % 256 : i % 256 + w] + np.uint8(level)
            frame = av.VideoFrame.from_ndarray(np.concatenate([y, chroma]), format="yuv420p")
            frame.pts = i
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--video-seconds",
        type=float,
        default=20.0,
        help="also time video analysis of a 720p30 clip this long (0: skip)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "track.flac"
        make_track(path, args.seconds)
        analyze_file(path, ["energy"])  # warm up imports / numba caches inside librosa
        decode, total = [], []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            decode_audio(path)
            decode.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = analyze_file(path, AUDIO_FEATURES, input_cid="bench")
            total.append(time.perf_counter() - t0)
    assert result is not None
    d, a = statistics.median(decode), statistics.median(total)
    print(f"track: {args.seconds:.0f} s, 44.1 kHz stereo FLAC, 128 BPM")
    print(f"tempo found: {result.tempo:.2f} BPM, {len(result.beat_times)} beats")
    print(f"decode+resample: {d:.3f} s  ({args.seconds / d:.0f}x real time)")
    print(
        f"full audio analysis (decode, beats, downbeats, onsets, energy, bands): {a:.3f} s "
        f"({args.seconds / a:.0f}x real time), median of {args.repeat}"
    )
    if args.video_seconds > 0:
        with tempfile.TemporaryDirectory() as tmp:
            vpath = Path(tmp) / "clip.mp4"
            make_video(vpath, args.video_seconds)
            t0 = time.perf_counter()
            vres = analyze_file(vpath, ["metadata", "motion", "cuts", "motion_tempo"])
            v = time.perf_counter() - t0
        assert vres.video is not None
        print(
            f"video analysis (720p30 H.264, motion + cuts): {v:.3f} s for "
            f"{args.video_seconds:.0f} s ({args.video_seconds / v:.1f}x real time, "
            f"{vres.video.frame_count / v:.0f} fps), {len(vres.video.cuts)} cuts found"
        )


if __name__ == "__main__":
    main()
