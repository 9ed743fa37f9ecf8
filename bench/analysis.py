"""Analysis speed and beat-tracking accuracy.

1. Speed: generates a 3-minute 44.1 kHz stereo FLAC track (128 BPM
   kick/click pattern, a bass line, hi-hat noise) and times ``analyze_file``
   with every audio feature, plus the decode step alone. Goal: >= 50x real time.
2. Real music (``--no-real`` skips it): the recordings of
   ``tests/interpreter/analysis/real_music.py`` (drum loops, game music, weak
   pulse; fetched from Debian packages and cached), ours against essentia's
   RhythmExtractor2013 and the truth where known, as a Markdown table, with
   the analysis speed of each.

Run:

    .venv/bin/python bench/analysis.py [--seconds 180] [--repeat 3] [--no-real]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interpreter.analysis import AUDIO_FEATURES, analyze_file
from interpreter.analysis.audio import analyse_audio
from interpreter.analysis.decode import ANALYSIS_RATE, decode_audio
from tests.fetched_media import MediaUnavailable
from tests.interpreter.analysis.real_music import (
    RECORDINGS,
    Clip,
    essentia_rhythm,
    f_measure,
    fetch,
    load_clip,
    octave_relation,
    reference_at,
)

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


def _pct(value: float | None, ref: float | None) -> str:
    if value is None or ref is None:
        return "—"
    return f"{100 * (value / ref - 1):+.1f} %"


def _real_row(clip: Clip) -> tuple[str, float, float]:
    """One Markdown row for ``clip``; also (ours seconds, essentia seconds)."""
    rec = clip.recording
    wanted = frozenset({"tempo", "beats", "downbeats"})
    analyse_audio(clip.samples[: ANALYSIS_RATE * 2], ANALYSIS_RATE, wanted)  # warm caches
    t0 = time.perf_counter()
    ours = analyse_audio(clip.samples, ANALYSIS_RATE, wanted)
    ours_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        ess_bpm, ess_beats, ess_conf = essentia_rhythm(clip.samples44)
        ess_s = time.perf_counter() - t0
        ess: str = f"{ess_bpm:.1f} ({ess_conf:.1f})"
    except ImportError:
        ess_bpm, ess_beats, ess_s, ess = 0.0, np.zeros(0), 0.0, "not installed"
    beats = ours.beats if ours.beats is not None else np.zeros(0)
    ratio = octave_relation(ours.tempo, ess_bpm) if ours.tempo and ess_bpm else None
    f_ess = "—"
    if ratio in (0.5, 1.0, 2.0) and len(beats):
        f_ess = f"{f_measure(beats, reference_at(ess_beats, float(ratio), beats)):.2f}"
        f_ess += "" if ratio == 1.0 else f" (x{ratio:g})"
    f_grid = "—"
    if rec.kind == "loop" and clip.truth:
        grid = np.arange(0.0, clip.duration - 0.05, 60.0 / clip.truth)
        f_grid = f"{f_measure(beats, grid):.2f}"
    tempo = "none" if ours.tempo is None else f"{ours.tempo:.1f}"
    alts = ", ".join(f"{a:.1f}" for a in ours.tempo_alternatives) or "—"
    octave = "—" if ratio is None else f"x{ratio:.3g}"
    row = (
        f"| {rec.key} | {rec.kind} | {clip.duration:.1f} | "
        f"{'—' if clip.truth is None else f'{clip.truth:.2f}'} | {ess} | "
        f"{tempo} ({ours.tempo_confidence or 0:.2f}) | {alts} | {_pct(ours.tempo, clip.truth)} | "
        f"{octave} | {f_ess} | {f_grid} | {clip.duration / ours_s:.0f}x |"
    )
    return row, ours_s, ess_s


def real_music() -> None:
    """Print the accuracy table of the real-music set (fetching it if needed)."""
    try:
        paths = fetch()
    except MediaUnavailable as exc:
        print(f"real-music set unavailable: {exc}")
        return
    print(
        "| recording | kind | s | truth BPM | essentia BPM (conf.) | ours BPM (conf.) | "
        "ours alternatives | ours vs truth | ours / essentia | F vs essentia | "
        "F vs loop grid | ours speed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    total = ours_total = ess_total = 0.0
    for rec in RECORDINGS:
        clip = load_clip(rec, paths[rec.key])
        row, ours_s, ess_s = _real_row(clip)
        print(row)
        total += clip.duration
        ours_total += ours_s
        ess_total += ess_s
    print(
        f"\nreal-music set: {total:.0f} s of audio; ours (tempo, beats, downbeats) "
        f"{ours_total:.2f} s = {total / ours_total:.0f}x real time"
        + (f"; essentia {ess_total:.2f} s = {total / ess_total:.0f}x" if ess_total else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-real", action="store_true", help="skip the real-music accuracy set")
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
    if not args.no_real:
        real_music()
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
