"""Worker and queue monitoring, read from Redis (arq has no Flower).

Everything is read from Redis, so any server (or ``artdag worker status``)
sees every worker of the queue, wherever it runs:

- the queue: arq keeps a job in the queue's sorted set until it finishes and
  marks running ones with ``arq:in-progress:<id>``; waiting = the rest
  (``deferred`` of them are scheduled for later);
- each worker's record (:class:`streamer.entry.worker.MonitoredWorker`, one JSON key
  per worker with a TTL, gone when the worker stops) and arq's own per-queue
  health line (``<queue>:health-check``, last writer wins);
- recent job results (``arq:result:<id>``, kept ``keep_result`` seconds),
  filtered to the queue, newest first.

:func:`worker_status` is the one collector; ``GET /api/workers`` and
``artdag worker status`` print it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from typing import Any

from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.jobs import DeserializationError, deserialize_job, deserialize_result

from streamer.jobs.chunk_state import CHUNK_CLAIM_TTL
from streamer.jobs.claims import claim_owner
from streamer.keys import DEFAULT_QUEUE, RedisKeys

__all__ = [
    "DEFAULT_RECENT",
    "MAX_RECENT",
    "QUEUE_NAME_RE",
    "chunk_claims",
    "list_workers",
    "parse_health_line",
    "worker_status",
]

DEFAULT_RECENT = 20
MAX_RECENT = 200
_RESULT_LIMIT = 300  # characters of a result or error kept in the answer
_HEALTH_FIELD = re.compile(r"(\w+)=(\S+)")
#: What a queue name given by a client may be.
QUEUE_NAME_RE = re.compile(r"^[\w:.\-]{1,200}$")


def parse_health_line(line: str | None) -> dict[str, Any] | None:
    """Split arq's health line (``Nov-28 19:58:20 j_complete=1 ... queued=0``).

    Returns:
        ``{"line": ..., "time": "Nov-28 19:58:20", "j_complete": 1, ...}`` or
        None when there is no line.
    """
    if not line:
        return None
    out: dict[str, Any] = {"line": line}
    first = _HEALTH_FIELD.search(line)
    out["time"] = line[: first.start()].strip() if first else line.strip()
    for name, value in _HEALTH_FIELD.findall(line):
        out[name] = int(value) if value.isdigit() else value
    return out


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _jsonable(value: Any) -> Any:
    """The value itself when it is small JSON, else a shortened ``repr``."""
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"[:_RESULT_LIMIT]
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)[:_RESULT_LIMIT]
    return value if len(text) <= _RESULT_LIMIT else text[:_RESULT_LIMIT] + "..."


async def chunk_claims(redis: Any, queue: str) -> list[dict[str, Any]]:
    """Chunks of distributed live runs being rendered now: who holds each and how fresh.

    Each is ``{"run_id", "index", "worker", "heartbeat_age_s"}``; the age is
    the time since the claim was last renewed (its TTL counts down from
    ``CHUNK_CLAIM_TTL`` at each heartbeat). Sorted by run and chunk.
    """
    prefix = f"{queue}:chunk:"
    keys = [k async for k in redis.scan_iter(match=_glob_escape(prefix) + "*", count=500)]
    if not keys:
        return []
    tokens = await redis.mget(keys)
    ttls = await asyncio.gather(*(redis.pttl(k) for k in keys))
    claims = []
    for key, token, ttl in zip(keys, tokens, ttls, strict=True):
        if token is None or ttl < 0:  # expired between SCAN and MGET
            continue
        run_id, _, index = _text(key)[len(prefix) :].rpartition(":")
        if not index.isdigit():
            continue
        claims.append(
            {
                "run_id": run_id,
                "index": int(index),
                "worker": claim_owner(_text(token)),
                "heartbeat_age_s": round(max(0.0, CHUNK_CLAIM_TTL - int(ttl) / 1000), 3),
            }
        )
    claims.sort(key=lambda c: (c["run_id"], c["index"]))
    return claims


async def list_workers(redis: Any, queue: str) -> list[dict[str, Any]]:
    """The live per-worker records of ``queue`` (see :class:`streamer.entry.worker.MonitoredWorker`).

    Each record gets ``age_s`` (since the worker wrote it) and ``ttl_ms``.
    Sorted by worker id.
    """
    prefix = RedisKeys(queue=queue).worker_records
    keys = [k async for k in redis.scan_iter(match=_glob_escape(prefix) + "*", count=500)]
    if not keys:
        return []
    raws = await redis.mget(keys)
    ttls = await asyncio.gather(*(redis.pttl(k) for k in keys))
    now = time.time()
    workers = []
    for raw, ttl in zip(raws, ttls, strict=True):
        if raw is None:  # expired between SCAN and MGET
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        record["age_s"] = round(max(0.0, now - float(record.get("updated_at", now))), 3)
        record["ttl_ms"] = int(ttl)
        workers.append(record)
    workers.sort(key=lambda r: str(r.get("worker_id", "")))
    return workers


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


async def _job_def(redis: Any, job_id: str) -> dict[str, Any]:
    raw = await redis.get(job_key_prefix + job_id)
    job: dict[str, Any] = {"job_id": job_id}
    if raw is None:
        return job  # finished between the two reads
    try:
        jd = deserialize_job(raw)
    except DeserializationError as exc:
        job["error"] = f"unreadable job: {exc}"[:_RESULT_LIMIT]
        return job
    job["function"] = jd.function
    # the worker counts tries in arq:retry:<id> when it starts a job
    tries = await redis.get(retry_key_prefix + job_id)
    job["try"] = int(tries) if tries is not None else jd.job_try
    job["enqueued_at"] = _ts(jd.enqueue_time)
    job["args"] = _jsonable(list(jd.args))
    job["kwargs"] = _jsonable(jd.kwargs)
    return job


async def _recent_results(redis: Any, queue: str, limit: int) -> list[dict[str, Any]]:
    if limit <= 0:
        return []
    keys = [k async for k in redis.scan_iter(match=result_key_prefix + "*", count=1000)]
    results: list[dict[str, Any]] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for key, raw in zip(chunk, await redis.mget(chunk), strict=True):
            if raw is None:
                continue
            try:
                r = deserialize_result(raw)
            except DeserializationError:
                continue
            if r.queue_name != queue:
                continue
            started, finished = _ts(r.start_time), _ts(r.finish_time)
            entry: dict[str, Any] = {
                "job_id": _text(key)[len(result_key_prefix) :],
                "function": r.function,
                "success": bool(r.success),
                "try": r.job_try,
                "enqueued_at": _ts(r.enqueue_time),
                "started_at": started,
                "finished_at": finished,
                "duration_s": round(finished - started, 3) if started and finished else None,
            }
            if r.success:
                entry["result"] = _jsonable(r.result)
            else:
                entry["error"] = _jsonable(r.result)
            results.append(entry)
    results.sort(key=lambda e: e["finished_at"] or 0.0, reverse=True)
    return results[:limit]


async def worker_status(
    redis: Any, queue: str = DEFAULT_QUEUE, *, recent: int = DEFAULT_RECENT
) -> dict[str, Any]:
    """Collect the queue, its workers and recent results from Redis.

    Args:
        redis: a ``redis.asyncio.Redis`` (or arq's ``ArqRedis``) with bytes replies.
        queue: the arq queue name.
        recent: how many recent job results to include (0 for none).

    Returns:
        ``{"queue", "checked_at", "queued", "deferred", "in_progress",
        "in_progress_jobs": [{job_id, function, try, enqueued_at, args, kwargs}],
        "chunks": chunk_claims(...),
        "workers": [worker records], "worker_count", "arq_health":
        parse_health_line(...) | None, "arq_health_ttl_ms", "healthy",
        "recent": [{job_id, function, success, try, enqueued_at, started_at,
        finished_at, duration_s, result | error}]}``. ``healthy`` is true when
        at least one worker reported within its health interval.

    Raises:
        redis.exceptions.RedisError / OSError: Redis is not reachable.
    """
    now_ms = int(time.time() * 1000)
    entries = [(_text(m), float(s)) for m, s in await redis.zrange(queue, 0, -1, withscores=True)]
    async with redis.pipeline(transaction=False) as pipe:
        for job_id, _ in entries:
            pipe.exists(in_progress_key_prefix + job_id)
        flags = await pipe.execute() if entries else []
    running = [j for (j, _), flag in zip(entries, flags, strict=True) if flag]
    waiting = [score for (_, score), flag in zip(entries, flags, strict=True) if not flag]
    deferred = sum(1 for score in waiting if score > now_ms)
    in_progress_jobs = [await _job_def(redis, j) for j in running]

    health_key = RedisKeys(queue=queue).health_check
    health_raw = await redis.get(health_key)
    health_ttl = int(await redis.pttl(health_key)) if health_raw else -2
    workers = await list_workers(redis, queue)
    return {
        "chunks": await chunk_claims(redis, queue),
        "queue": queue,
        "checked_at": time.time(),
        "queued": len(waiting),
        "deferred": deferred,
        "in_progress": len(running),
        "in_progress_jobs": in_progress_jobs,
        "workers": workers,
        "worker_count": len(workers),
        "arq_health": parse_health_line(_text(health_raw) if health_raw else None),
        "arq_health_ttl_ms": health_ttl,
        "healthy": bool(workers) or health_raw is not None,
        "recent": await _recent_results(redis, queue, recent),
    }
