"""Storage errors: one root, :class:`StorageError`, for every backend."""

from __future__ import annotations

__all__ = [
    "InvalidCIDError",
    "NotFoundError",
    "StorageError",
    "StorageFullError",
    "StorageTimeoutError",
    "StorageUnavailableError",
    "TooLargeError",
]


class StorageError(Exception):
    """Root of every error raised by ``cache/``."""


class NotFoundError(StorageError, KeyError):
    """The CID or key is not stored in this backend."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"


class StorageUnavailableError(StorageError, ConnectionError):
    """The backend (IPFS node, S3 endpoint) cannot be reached."""


class StorageTimeoutError(StorageUnavailableError, TimeoutError):
    """The backend did not answer in time."""


class StorageFullError(StorageError, OSError):
    """The backend has no space left (``ENOSPC``/``EDQUOT``); nothing partial was kept."""


class TooLargeError(StorageError, ValueError):
    """The content is larger than the allowed maximum."""


class InvalidCIDError(StorageError, ValueError):
    """A string is not a valid CID."""
