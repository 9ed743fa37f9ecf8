"""The analysis each ANALYZE step feeds to expressions, BEAT_SYNC and MAP."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from effects.registry import Registry
from interpreter.nodes import NodeType, Recipe, Step
from interpreter.runtime.analysis import AnalysisTrack, segment_window
from interpreter.runtime.errors import step_error

__all__ = ["AnalysisTracks"]


class AnalysisTracks:
    """The :class:`AnalysisTrack` of every ANALYZE step of a recipe, made on first use.

    The run's analysis is either keyed by ANALYZE step id, one result for
    every step, or None; a step with no analysis given is analysed here: its
    input file, or the audio its input makes rendered offline
    (:mod:`interpreter.runtime.offline`; not cached here).

    Args:
        recipe: A validated recipe.
        inputs: Recipe input name -> media file.
        analysis: ``{step_id: result}``, one result for all, or None.
        registry: Effect registry (to render a generated input).
        params: Recipe parameter overrides (likewise).
        duration: Seconds the run renders (caps a long generated input).
        cancel: The run's cancel flag.

    Attributes:
        ids: Ids of the ANALYZE steps.
        default: Track of expressions whose step has no ANALYZE input (the
            only ANALYZE step's when there is one).

    Raises:
        StreamError: the recipe's only ANALYZE step has no analysis and no file.
    """

    def __init__(
        self,
        recipe: Recipe,
        inputs: Mapping[str, Path],
        analysis: Any,
        *,
        registry: Registry | None = None,
        params: Mapping[str, Any] | None = None,
        duration: float | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.recipe = recipe
        self.inputs = inputs
        self.analysis = analysis
        self.registry = registry
        self.params = params
        self.duration = duration
        self.cancel = cancel
        self.ids = {st.id for st in recipe.steps if st.type == NodeType.ANALYZE}
        self.keyed = isinstance(analysis, Mapping) and bool(analysis) and set(analysis) <= self.ids
        self._tracks: dict[str, AnalysisTrack] = {}
        self.default = AnalysisTrack(None if self.keyed else analysis)
        if len(self.ids) == 1 and (analysis is None or self.keyed):
            self.default = self.of(next(iter(self.ids)))

    def of(self, aid: str) -> AnalysisTrack:
        """The track of ANALYZE step ``aid``.

        Raises:
            StreamError: no analysis was given for it and its input cannot be
                analysed (unbound file, video features of generated media).
        """
        if aid not in self._tracks:
            step = self.recipe.step(aid)
            if self.keyed and aid in self.analysis:
                self._tracks[aid] = AnalysisTrack(self.analysis[aid])
            elif self.analysis is not None and not self.keyed:
                self._tracks[aid] = AnalysisTrack(self.analysis)
            else:
                self._tracks[aid] = self._analyze(step)
        return self._tracks[aid]

    def input_of(self, step: Step) -> str | None:
        """The first ANALYZE step among ``step``'s inputs (None: it has none)."""
        return next((i for i in step.inputs if i in self.ids), None)

    def for_step(self, step: Step) -> AnalysisTrack:
        """The track ``step``'s expressions read: its ANALYZE input's, else the default."""
        for i in step.inputs:
            if i in self.ids:
                return self.of(i)
        return self.default

    def _analyze(self, step: Step) -> AnalysisTrack:
        # no analysis given with the run: compute phase 1 now (we run in a worker thread),
        # on the whole file, seen through the SEGMENTs between it and the step
        found = segment_window(self.recipe, step.id)
        if found is None:
            return AnalysisTrack(self._generated(step))
        if found[0] not in self.inputs:
            raise step_error(
                self.recipe,
                step,
                f"no analysis given for this step and its input {found[0]!r} is not bound",
                hint=f"give it with --input {found[0]}=PATH, or pass the analysis with the run",
            )
        from interpreter.analysis import analyze_file

        name, start, dur = found
        track = AnalysisTrack(
            analyze_file(Path(self.inputs[name]), list(step.config.get("features") or []))
        )
        return track.window(start, dur) if start or dur is not None else track

    def _generated(self, step: Step) -> Any:
        from interpreter.runtime.offline import analyze_generated

        registry = self.registry
        if registry is None:
            from effects.catalog import default_registry

            registry = default_registry()
        return analyze_generated(
            self.recipe,
            step.id,
            self.inputs,
            registry=registry,
            params=self.params,
            duration=self.duration,
            cancel=self.cancel,
        )
