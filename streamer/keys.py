"""Every Redis key, channel and arq queue name of artdag, in one place.

Two namespaces come from settings (``ARTDAG_REDIS_PREFIX``, ``ARTDAG_QUEUE``),
so test sessions and clusters sharing one Redis never meet:

- ``<prefix>run:<id>:events``: pub/sub channel of a run's events;
- ``<prefix>run:<id>:cancel``: present = the run was asked to stop;
- ``<prefix>revoked:<sha256>``, ``<prefix>user_tokens:<user>``,
  ``<prefix>user_revoked_at:<user>``, ``<prefix>l2_token:<sha256>``, ``<prefix>login_code:<code>``: tokens and sign-in links;
- ``<prefix>fed:key:<sha256 of a key id>``: a federation peer's public key (cached);
  ``<prefix>fed:followers``: set of the actors following this L1;
  ``<prefix>fed:scheme:<origin>``: present = that peer asked for RFC 9421 signatures;
- ``<queue>``: the arq queue; ``<queue>:health-check`` arq's health line;
  ``<queue>:workers:<id>`` per-worker records; ``<queue>:claim:<cache id>``
  step claims; ``<queue>:exec:count`` / ``<queue>:exec:worker`` step
  execution counters (hashes by cache id); ``<queue>:wake`` pub/sub channel
  that wakes idle workers when a job is queued (:mod:`streamer.jobs.wake`).

arq's own keys (``arq:job:<id>``, ``arq:result:<id>``, ``arq:in-progress:<id>``)
are arq's; job ids are made here (:meth:`RedisKeys.render_job_id`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["DEFAULT_PREFIX", "DEFAULT_QUEUE", "RedisKeys"]

DEFAULT_PREFIX = "artdag:"
DEFAULT_QUEUE = "artdag:queue"


@dataclass(frozen=True)
class RedisKeys:
    """The names under one key prefix and one arq queue.

    Attributes:
        prefix: prefix of artdag's own keys and channels (ends with ``:``).
        queue: the arq queue name; job-side keys live under it.
    """

    prefix: str = DEFAULT_PREFIX
    queue: str = DEFAULT_QUEUE

    # --- runs -------------------------------------------------------------------
    def run_events(self, run_id: str) -> str:
        """Pub/sub channel of a run's events."""
        return f"{self.prefix}run:{run_id}:events"

    def run_cancel(self, run_id: str) -> str:
        """Key whose presence asks the jobs of ``run_id`` to stop."""
        return f"{self.prefix}run:{run_id}:cancel"

    @staticmethod
    def render_job_id(run_id: str) -> str:
        """The arq job id of a run's render (one queued render per run)."""
        return f"render:{run_id}"

    @staticmethod
    def run_recipe_job_id(run_id: str) -> str:
        """The arq job id of a run's 3-phase pipeline (``POST /api/run-recipe``)."""
        return f"run_recipe:{run_id}"

    @staticmethod
    def replicate_job_id(run_id: str, provider_id: int) -> str:
        """The arq job id of a run's copy to one storage provider (one per pair)."""
        return f"replicate:{run_id}:{provider_id}"

    # --- auth -------------------------------------------------------------------
    def token_revoked(self, digest: str) -> str:
        """Present when the token with this SHA-256 hex digest is revoked."""
        return f"{self.prefix}revoked:{digest}"

    def user_tokens(self, user: str) -> str:
        """Sorted set of a user's token digests (score: expiry)."""
        return f"{self.prefix}user_tokens:{user}"

    def user_revoked_at(self, user: str) -> str:
        """Unix time of the user's last revoke-all."""
        return f"{self.prefix}user_revoked_at:{user}"

    def l2_token(self, digest: str) -> str:
        """``user|issued`` of an L2 token accepted by ``/auth`` (so L2 may revoke with it)."""
        return f"{self.prefix}l2_token:{digest}"

    def login_code(self, code: str) -> str:
        """The user a one-time sign-in link signs in (consumed on use)."""
        return f"{self.prefix}login_code:{code}"

    # --- federation -------------------------------------------------------------
    def actor_key(self, key_id: str) -> str:
        """A peer's public key (JSON ``{"owner", "pem"}``), cached by key id."""
        return f"{self.prefix}fed:key:{hashlib.sha256(key_id.encode()).hexdigest()}"

    def peer_scheme(self, origin: str) -> str:
        """Present (``rfc9421``) when the peer at ``origin`` asked for RFC 9421 signatures."""
        return f"{self.prefix}fed:scheme:{origin}"

    @property
    def followers(self) -> str:
        """Set of the actor URLs that follow this L1's actor."""
        return f"{self.prefix}fed:followers"

    # --- workers and jobs -------------------------------------------------------
    @property
    def health_check(self) -> str:
        """Where arq writes the queue's health line."""
        return f"{self.queue}:health-check"

    @property
    def worker_records(self) -> str:
        """Prefix of the per-worker health records (``<prefix><worker id>``)."""
        return f"{self.queue}:workers:"

    @property
    def queue_wake(self) -> str:
        """Pub/sub channel: a message wakes the queue's idle workers to poll now."""
        return f"{self.queue}:wake"

    def claim(self, cache_id: str) -> str:
        """The claim on a plan step's cache id."""
        return f"{self.queue}:claim:{cache_id}"

    def chunks(self, run_id: str) -> str:
        """Hash: a chunked live run's plan (``meta``), finished chunks (``done:<i>``) and
        re-enqueue bookkeeping (``started:<i>``, ``tries:<i>``, ``listed``)."""
        return f"{self.queue}:chunks:{run_id}"

    def chunk_claim(self, run_id: str, index: int) -> str:
        """The claim (with heartbeat) of the worker rendering chunk ``index`` of a run."""
        return f"{self.queue}:chunk:{run_id}:{index}"

    def chunk_owner(self, run_id: str) -> str:
        """The claim of the job that owns a chunked run (enqueues, supervises, completes)."""
        return f"{self.queue}:chunks:{run_id}:owner"

    def chunk_listing(self, run_id: str) -> str:
        """Lock around the listing of a chunked run's playlist (one writer at a time)."""
        return f"{self.queue}:chunks:{run_id}:listing"

    @staticmethod
    def chunk_job_id(run_id: str, index: int, attempt: int) -> str:
        """arq job id of attempt ``attempt`` at chunk ``index`` of a run."""
        return f"chunk:{run_id}:{index}:{attempt}"

    @property
    def exec_counts(self) -> str:
        """Hash: cache id -> times the step was executed."""
        return f"{self.queue}:exec:count"

    @property
    def exec_workers(self) -> str:
        """Hash: cache id -> the worker that executed the step."""
        return f"{self.queue}:exec:worker"
