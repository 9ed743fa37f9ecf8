"""What ``artdag serve`` starts itself: the services whose settings are unset.

PostgreSQL and Redis when ``DATABASE_URL``/``REDIS_URL`` are unset (the
embedded stack), and an offline IPFS node when ``IPFS_API`` is unset (unless
``--no-ipfs``): Kubo when ``ipfs`` is on PATH, else the project's js-ipfs. The
returned settings point at them; the configured ``IPFS_GATEWAY_URL`` stays the
gateway for redirects, and without one the node's own (local) gateway is used.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from streamer.embedded.ipfs import EmbeddedIPFS, IPFSPorts
from streamer.embedded.procs import free_port
from streamer.embedded.stack import EmbeddedStack
from streamer.entry.commands._common import with_urls
from streamer.settings import Settings, parse_multiaddr

__all__ = ["Embedded", "start_embedded", "with_ipfs"]

log = logging.getLogger(__name__)


@dataclass
class Embedded:
    """What was started (stop it with :meth:`stop`)."""

    stack: EmbeddedStack | None = None
    ipfs: EmbeddedIPFS | None = None
    started: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop what :func:`start_embedded` started (blocking); a reused stack keeps running."""
        if self.stack is not None:
            if self.stack.started:
                self.stack.down()
            elif self.stack.ipfs_started:
                self.stack.ipfs.stop()
        if self.ipfs is not None:
            self.ipfs.stop()


def with_ipfs(settings: Settings, api: str, gateway: str) -> Settings:
    """Point the IPFS settings at a node (the gateway only when none was configured)."""
    ipfs = settings.ipfs
    gateway_set = ipfs.gateway_url != "https://ipfs.io/ipfs"
    return dataclasses.replace(
        settings,
        ipfs=dataclasses.replace(
            ipfs,
            api=parse_multiaddr(api),
            gateway_url=ipfs.gateway_url if gateway_set else gateway,
        ),
    )


def start_embedded(settings: Settings, *, ipfs: bool = True) -> tuple[Settings, Embedded]:
    """Start the unset services (blocking: run it in a thread); settings that use them.

    Args:
        settings: configuration.
        ipfs: start an IPFS node when ``IPFS_API`` is unset (``--no-ipfs`` passes False).

    Raises:
        ServiceError: a service failed to start (an IPFS node missing says how to get one).
    """
    want_ipfs = ipfs and not settings.ipfs.api_set
    done = Embedded()
    root = settings.storage.services_dir
    if settings.services.embedded:
        done.stack = EmbeddedStack(root, ipfs=want_ipfs)
        urls = done.stack.up()
        settings = with_urls(settings, urls.database_url, urls.redis_url)
        done.started += ["PostgreSQL", "Redis"]
        if urls.ipfs_api and urls.ipfs_gateway:
            settings = with_ipfs(settings, urls.ipfs_api, urls.ipfs_gateway)
            done.started.append("IPFS")
    elif want_ipfs:
        done.ipfs = EmbeddedIPFS(root / "ipfs")
        ports = IPFSPorts(free_port(), free_port(), free_port())
        done.ipfs.start(ports)
        settings = with_ipfs(settings, ports.api_multiaddr, ports.gateway_url)
        done.started.append("IPFS")
    return settings, done
