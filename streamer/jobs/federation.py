"""The arq job delivering one federation activity to L2, with retries and backoff.

``deliver_activity(activity_id)`` (queued by :mod:`streamer.federation.publish`)
waits its turn (the CID's earlier activities go first), counts an attempt,
delivers (:func:`streamer.federation.deliver.deliver`) and records the
outcome in ``federation_activities``:

- L2 accepted it: ``published``, with L2's id of the object;
- a failure that may pass (L2 down, 5xx, a time-out): the error is recorded
  and arq's :class:`~arq.worker.Retry` runs the job again after
  ``L2_RETRY_SECONDS * 2**(attempt-1)`` (at most an hour), until
  ``L2_DELIVERY_ATTEMPTS`` attempts were made;
- a failure that will not (L2 refused the activity, knows no such user), or the
  last attempt failing: ``failed``, with why.

An ``Update`` whose object L2 never got (the ``Create`` before it failed) is
sent as a ``Create``.

Once settled it queues the CID's next pending activity.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from arq import func
from arq.worker import Retry

from streamer.db import federation as fed_db
from streamer.errors import Unavailable
from streamer.federation.deliver import DeliveryError, deliver
from streamer.federation.publish import DELIVER_JOB, enqueue_delivery
from streamer.resources import Resources, resources_of
from streamer.settings import MAX_DELIVERY_ATTEMPTS

__all__ = ["FEDERATION_FUNCTIONS", "MAX_RETRY_DELAY", "deliver_activity", "retry_delay"]

log = logging.getLogger(__name__)

#: The longest wait between two attempts (seconds).
MAX_RETRY_DELAY = 3600.0
#: Seconds one attempt may take (WebFinger, actor and inbox requests: 30 s each at most).
_JOB_TIMEOUT = 120


def retry_delay(base: float, attempt: int) -> float:
    """Seconds before the attempt after ``attempt`` (1-based): doubling, capped."""
    return float(min(base * 2 ** max(attempt - 1, 0), MAX_RETRY_DELAY))


async def _next(res: Resources, cid: str) -> None:
    try:
        await enqueue_delivery(res, cid)
    except Unavailable as exc:  # the next publish of the CID queues it again
        log.warning("next activity of %s not queued: %s", cid, exc.detail)


async def _create_unless_held(res: Resources, row: dict[str, Any]) -> dict[str, Any]:
    """An Update of an object L2 never got (its Create failed) goes as a Create."""
    if row["activity_type"] != "Update":
        return row
    held = await fed_db.delivered_before(res.db, row["cid"], row["seq"])
    if held is not None and held["activity_type"] != "Delete":
        return row
    activity = {**row["activity"], "type": "Create"}
    activity["object"] = {k: v for k, v in activity["object"].items() if k != "updated"}
    return await fed_db.as_create(res.db, row["id"], activity)


async def deliver_activity(ctx: dict[str, Any], activity_id: str) -> dict[str, Any]:
    """Deliver one activity (see the module docstring).

    Returns:
        ``{"activity": id, "state": ..., ...}`` (``waiting`` when an earlier one goes first).

    Raises:
        Retry: the attempt failed and another is due.
    """
    res = resources_of(ctx)
    row = await fed_db.get_activity(res.db, activity_id)
    if row is None or row["state"] != "publishing":
        return {"activity": activity_id, "state": row["state"] if row else "missing"}
    first = await fed_db.earliest_pending(res.db, row["cid"])
    if first is not None and first["id"] != activity_id:
        await _next(res, row["cid"])  # it queues this one when it settles
        return {"activity": activity_id, "state": "waiting", "after": first["id"]}
    row = await fed_db.begin_attempt(res.db, activity_id)
    if row is None:
        return {"activity": activity_id, "state": "settled"}
    row = await _create_unless_held(res, row)
    attempt, limit = int(row["attempts"]), res.settings.federation.delivery_attempts
    try:
        done = await deliver(res, row)
    except DeliveryError as exc:
        why = str(exc)
        if exc.permanent or attempt >= limit:
            if not exc.permanent:
                why = f"{why} (gave up after {attempt} attempts)"
            await fed_db.mark_failed(res.db, activity_id, why)
            log.warning(
                "%s %s of %s failed: %s", row["activity_type"], activity_id, row["cid"], why
            )
            await _next(res, row["cid"])
            return {"activity": activity_id, "state": "failed", "error": why}
        delay = retry_delay(res.settings.federation.retry_seconds, attempt)
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        await fed_db.mark_retry(res.db, activity_id, f"attempt {attempt}/{limit}: {why}", due)
        log.info(
            "%s of %s: attempt %d failed (%s); retry in %.1f s",
            activity_id,
            row["cid"],
            attempt,
            why,
            delay,
        )
        raise Retry(defer=delay) from None
    await fed_db.mark_published(
        res.db,
        activity_id,
        remote_id=done.remote_id,
        target_inbox=done.target.inbox,
        user_actor=done.target.actor,
        activity=done.activity,
    )
    await _next(res, row["cid"])
    return {"activity": activity_id, "state": "published", "remote_id": done.remote_id}


#: arq's own try limit stays above ours: the job itself decides when to give up. No
#: result is kept: a job id (one per activity) may be queued again once its job ended
#: (a job that found an earlier activity waiting is queued again when that one settles).
FEDERATION_FUNCTIONS = [
    func(
        deliver_activity,
        name=DELIVER_JOB,
        max_tries=MAX_DELIVERY_ATTEMPTS + 2,
        keep_result=0,
        timeout=_JOB_TIMEOUT,
    )
]
