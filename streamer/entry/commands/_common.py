"""Helpers shared by the service-related commands."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from streamer.embedded.stack import EmbeddedStack, ServiceError
from streamer.settings import Settings

__all__ = ["configure_logging", "settings_with_stack_urls", "with_urls"]


def configure_logging(level: str = "INFO") -> None:
    """Plain timestamped logging on stderr."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def with_urls(settings: Settings, database_url: str, redis_url: str) -> Settings:
    """Fill the URLs that were not set in the environment with the given ones."""
    services = settings.services
    return dataclasses.replace(
        settings,
        services=dataclasses.replace(
            services,
            database_url=services.database_url if services.database_url_set else database_url,
            redis_url=services.redis_url if services.redis_url_set else redis_url,
        ),
    )


def settings_with_stack_urls(settings: Settings, data_dir: Path | None = None) -> Settings:
    """Use a running embedded stack for the services whose URL is unset.

    Raises:
        ServiceError: a URL is unset and no embedded stack is running.
    """
    if not settings.services.embedded:
        return settings
    stack = EmbeddedStack(data_dir or settings.storage.services_dir)
    status = stack.status()
    if not (status["postgres"]["running"] and status["redis"]["running"]):
        raise ServiceError(
            "REDIS_URL/DATABASE_URL are not set and no embedded stack is running under "
            f"{stack.data_dir}: run `artdag services up` or set both variables"
        )
    return with_urls(settings, status["postgres"]["url"], status["redis"]["url"])
