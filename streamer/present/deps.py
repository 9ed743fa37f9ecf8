"""How handlers and guards reach the application's :class:`~streamer.resources.Resources`.

The lifespan (:mod:`streamer.entry.app`) puts the opened resources on the
application; handlers declare ``res: Resources`` and get them through the
``res`` dependency (:func:`provide_resources`); guards, which have no
dependency injection, call :func:`resources_of_connection`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency

from streamer.resources import Resources

__all__ = ["RESOURCES_STATE", "Res", "provide_resources", "resources_of_connection"]

#: The application state attribute the lifespan sets.
RESOURCES_STATE = "resources"


def provide_resources(state: State) -> Resources:
    """The ``res`` dependency.

    Raises:
        RuntimeError: the lifespan has not opened the resources.
    """
    resources = state.get(RESOURCES_STATE)
    if not isinstance(resources, Resources):
        raise RuntimeError("the application's resources are not open (lifespan not run)")
    return resources


def resources_of_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> Resources:
    """The resources, from a guard's connection."""
    return provide_resources(connection.app.state)


#: How handlers declare the resources: ``res: Res`` (Litestar's named dependency ``res``).
Res = NamedDependency[Resources]
