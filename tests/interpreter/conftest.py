"""Fixtures of the recipe-language tests: a small effect registry independent of the catalog."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from effects.registry import Registry
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from tests.interpreter.recipe_registry import small_registry


@pytest.fixture
def registry() -> Registry:
    """The small registry."""
    return small_registry()


@pytest.fixture
def load(registry: Registry) -> Callable[..., Recipe]:
    """``load(text, filename="t.yaml") -> Recipe`` with the small registry."""

    def _load(text: str, filename: str = "t.yaml") -> Recipe:
        return load_recipe(text, filename, registry)

    return _load
