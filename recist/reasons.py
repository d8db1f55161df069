"""Plain-language reasons, built lazily.

The engine records *why* as a small tuple ``(text_function, *arguments)`` (a
recipe) and only formats the sentence when someone reads
``TimepointResult.reason``: formatting every sentence for 100,000
timepoints would cost more than the rules themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

Recipe: TypeAlias = "tuple[Any, ...] | str | None"


def render(recipe: Recipe) -> str:
    """Format a recipe (None -> empty string, a string stays as it is)."""
    if recipe is None:
        return ""
    if isinstance(recipe, str):
        return recipe
    function: Callable[..., str] = recipe[0]
    return function(*recipe[1:])


def join(separator: str, *recipes: Recipe) -> str:
    """Render several recipes and join the non-empty ones."""
    return separator.join(text for text in (render(r) for r in recipes) if text)
