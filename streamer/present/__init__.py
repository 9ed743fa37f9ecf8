"""Presentation helpers shared by api/ and web/ (HTTP-facing, below both)."""
