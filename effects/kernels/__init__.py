"""Numba kernels grouped by category; each module exposes ``SPECS``."""
