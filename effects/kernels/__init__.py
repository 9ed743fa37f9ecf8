"""Numba kernels grouped by category.

Category modules (``colour``, ``spatial``, ``geometric``, ``glitch``,
``temporal``, ``composite``) each expose ``SPECS``, the effects they add to
the registry. The others hold kernels shared between them: ``colour_ops``
(fusable colour ops), ``lut3d`` (.cube tables), ``affine`` (fixed-point
warp), ``sampling`` (edge modes, bilinear sampling), ``_base`` and
``_unaligned`` (helpers).
"""
