"""Effect kernels (numba) over video frames, with an explicit registry of parameters."""
