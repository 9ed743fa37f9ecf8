"""Inputs declared by their use: ``(source :input "video")`` in a recipe that declares none.

A recipe with no input declarations (no ``(input ...)`` form, no YAML
``inputs:`` entry) declares each input that a SOURCE step names
(``{input: NAME}``), as the specification's own example does::

    (recipe "test" :version "1.0" (-> (source :input "video") (effect invert)))

The type is the one an explicit declaration would need, read off the
consumers of the source: a video port makes it ``video``, an audio port
``audio``, both ``av``; ANALYZE votes by its features (beats, energy...:
audio; motion, cuts: video); SEGMENT and SEQUENCE pass the question on to
their own consumers. With no vote it is ``video``. A recipe that declares
any input declares them all: there, a SOURCE naming an undeclared input is an
error (most likely a typo), as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from interpreter.nodes import InputDecl, NodeType, Recipe, Step
from interpreter.schema import SCHEMAS
from interpreter.schema_types import port_slots

__all__ = ["implicit_inputs"]

_AUDIO_FEATURES = frozenset({"tempo", "beats", "downbeats", "onsets", "energy", "bands"})
_VIDEO_FEATURES = frozenset({"motion", "cuts"})


def implicit_inputs(recipe: Recipe, steps: Sequence[Step]) -> tuple[InputDecl, ...]:
    """The declarations that the SOURCE steps of a recipe without any make.

    Args:
        recipe: The recipe (its own declarations decide whether any are implicit).
        steps: Its normalised steps (``input`` values are plain names).

    Returns:
        One declaration per input name, in order of first use (empty when the
        recipe declares its inputs itself).
    """
    if recipe.inputs:
        return ()
    consumers: dict[str, list[tuple[Step, int]]] = {}
    for st in steps:
        for i, ref in enumerate(st.inputs):
            consumers.setdefault(ref, []).append((st, i))
    sources: dict[str, list[Step]] = {}
    for st in steps:
        name = st.config.get("input") if st.type is NodeType.SOURCE else None
        if isinstance(name, str) and name:
            sources.setdefault(name, []).append(st)
    out = []
    for name, srcs in sources.items():
        votes: set[str] = set()
        for src in srcs:
            votes |= _uses(src.id, consumers, set())
        kind = "av" if len(votes) == 2 else next(iter(votes), "video")
        out.append(InputDecl(name, kind, "", srcs[0].where("input")))
    return tuple(out)


def _uses(sid: str, consumers: Mapping[str, list[tuple[Step, int]]], seen: set[str]) -> set[str]:
    """``video`` / ``audio``: what the consumers of step ``sid`` take from it."""
    if sid in seen:
        return set()
    seen.add(sid)
    votes: set[str] = set()
    for c, i in consumers.get(sid, []):
        if c.type is NodeType.EFFECT:
            votes.add("video")
        elif c.type is NodeType.ANALYZE:
            features = c.config.get("features")
            names = set(features) if isinstance(features, list) else set()
            votes |= {"audio"} if names & _AUDIO_FEATURES else set()
            votes |= {"video"} if names & _VIDEO_FEATURES else set()
        else:
            schema = SCHEMAS[c.type]
            kinds = set(port_slots(schema.ports, len(c.inputs))[i].kinds) & {"video", "audio"}
            if len(kinds) == 1:
                votes |= kinds
            elif kinds and schema.output == "same":
                votes |= _uses(c.id, consumers, seen)
    return votes
