"""Numba kernels grouped by category.

Category modules (``colour``, ``spatial``, ``geometric``, ``glitch``,
``temporal``, ``composite``; ``timecode`` for the utility category) hold the
kernels of the effects declared in :mod:`effects.specs` (``SPECS`` live there,
so reading the registry imports no kernel). The others hold kernels shared between them: ``colour_ops``
(fusable colour ops), ``lut3d`` (.cube tables), ``affine`` (fixed-point
warp), ``sampling`` (edge modes, bilinear sampling), ``_base`` and
``_unaligned`` (helpers).
"""
