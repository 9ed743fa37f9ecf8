"""Registry contents, fusion, EffectChain, determinism and warm-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from effects.catalog import default_registry
from effects.chain import EffectChain
from effects.frame import YUVFrame
from effects.fusion import fusion_groups
from effects.registry import EffectError, EffectParamError
from effects.warmup import IDENTITY_CUBE, warm_up
from tests.effects.fx_reference import diff, run

REQUIRED = {
    "invert": [],
    "blur": ["radius"],
    "gaussian_blur": ["sigma"],
    "hue": ["degrees"],
    "saturation": ["amount"],
    "brightness": ["amount"],
    "contrast": ["amount"],
    "transform": ["zoom", "rotate", "x", "y"],
}


def test_registry_is_complete_and_documented() -> None:
    reg = default_registry()
    assert len(reg) >= 24
    for name, params in REQUIRED.items():
        spec = reg.get(name)
        assert [p for p in params if p not in {q.name for q in spec.params}] == []
    cats = {s.category for s in reg}
    assert cats == {"colour", "spatial", "geometric", "glitch", "temporal", "composite", "utility"}
    for spec in reg:
        assert spec.name == spec.name.lower() and " " not in spec.name
        assert spec.doc and spec.doc.endswith(".")
        for p in spec.params:
            assert p.doc, f"{spec.name}.{p.name} has no doc"
            if p.type in ("float", "int"):
                assert p.check(spec.name, p.default) == p.default
        assert spec.temporal == (spec.category == "temporal")
        assert spec.arity == (2 if spec.name in ("blend", "crossfade", "chroma_key") else 1)


def test_param_errors_are_clear() -> None:
    spec = default_registry().get("blur")
    with pytest.raises(EffectParamError, match=r"blur\.radius: -1 is below 0"):
        spec.resolve({"radius": -1})
    with pytest.raises(EffectParamError, match="did you mean 'radius'"):
        spec.resolve({"radus": 2})


def test_fusion_groups() -> None:
    reg = default_registry()
    specs = [
        reg.get(n)
        for n in ("invert", "hue", "saturation", "blur", "brightness", "contrast", "transform")
    ]
    assert fusion_groups(specs) == [[0, 1, 2], [3], [4, 5], [6]]


def test_five_colour_effects_fuse_into_one_pass(frame: YUVFrame) -> None:
    reg = default_registry()
    nodes = [
        (reg.get("brightness"), {"amount": 0.05}),
        (reg.get("contrast"), {"amount": 1.2}),
        (reg.get("hue"), {"degrees": 30.0}),
        (reg.get("saturation"), {"amount": 0.8}),
        (reg.get("gamma"), {"gamma": 1.3}),
    ]
    chain = EffectChain(nodes, frame.width, frame.height)
    assert chain.passes == 1
    out = chain.apply(frame, frame_index=0)
    seq = frame
    for spec, p in nodes:
        seq = run(spec.name, seq, fi=0, **p)
    # Fused vs sequential: intermediate rounding only (no chroma clipping at these values).
    assert diff(out, seq) <= 2
    assert diff(out, frame) > 10


def test_chain_per_frame_params_and_ownership(frame: YUVFrame) -> None:
    reg = default_registry()
    chain = EffectChain(
        [
            (reg.get("invert"), {}),
            (reg.get("hue"), {"degrees": 90.0}),
            (reg.get("saturation"), {"amount": 1.5}),
            (reg.get("blur"), {"radius": 2}),
            (reg.get("transform"), {"rotate": 0.1}),
        ],
        frame.width,
        frame.height,
    )
    assert chain.passes == 3
    before = frame.data.copy()
    a = chain.apply(frame, frame_index=0).copy()
    assert np.array_equal(frame.data, before)  # input untouched
    ref = run(
        "transform",
        run(
            "blur",
            run("saturation", run("hue", run("invert", frame), degrees=90.0), amount=1.5),
            radius=2,
        ),
        rotate=0.1,
    )
    assert diff(a, ref) <= 3
    b = chain.apply(frame, [{}, {"degrees": 0.0}, {}, {}, {}], 1)
    assert diff(a, b) > 10
    c = chain.apply(frame, [{}, {}, {}, {}, {}], 2)
    assert diff(a, c) == 0  # per-frame override did not stick
    with pytest.raises(EffectError, match="parameters for 2 nodes"):
        chain.apply(frame, [{}, {}], 3)
    with pytest.raises(EffectError, match="built for"):
        chain.apply(YUVFrame.alloc(64, 48), (), 0)


def test_chain_rejects_composites_and_handles_empty(frame: YUVFrame) -> None:
    reg = default_registry()
    with pytest.raises(EffectError, match="takes 2 inputs"):
        EffectChain([(reg.get("blend"), {})], frame.width, frame.height)
    empty = EffectChain([], frame.width, frame.height)
    assert diff(empty.apply(frame), frame) == 0


def test_every_effect_is_deterministic(frame: YUVFrame, frame_b: YUVFrame, tmp_path: Path) -> None:
    cube = tmp_path / "id.cube"
    cube.write_text(IDENTITY_CUBE)
    for spec in default_registry():
        params = {p.name: str(cube) for p in spec.params if p.type == "path"}
        outs = []
        for _ in range(2):
            fx = spec.factory(frame.width, frame.height)
            out = YUVFrame.alloc(frame.width, frame.height)
            for i in range(3):
                fx.apply([frame, frame_b][: spec.arity], out, params, 10 + i)
            outs.append(out.data.copy())
        assert np.array_equal(outs[0], outs[1]), spec.name


def test_warm_up_runs_everything() -> None:
    assert warm_up() > 0
    assert warm_up(default_registry(), 32, 16) < 30
