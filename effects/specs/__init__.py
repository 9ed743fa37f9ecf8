"""Effect declarations: names, parameters and lazy references to their kernels.

Each category module (``colour``, ``spatial``, ``geometric``, ``glitch``,
``temporal``, ``composite``, ``utility``) exposes ``SPECS``. These modules
import neither numba nor numpy nor a kernel module, so reading the catalog (validating a
recipe, ``artdag effects list``) is cheap; a kernel module is imported the
first time one of its effects is built (``spec.factory(w, h)``).
"""
