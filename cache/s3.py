"""S3 storage through an injected aiobotocore client (path-style addressing).

Every botocore/aiohttp failure is mapped to a :class:`StorageError`:
missing keys/buckets to :class:`NotFoundError`, unreachable endpoints to
:class:`StorageUnavailableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from cache.errors import NotFoundError, StorageError, StorageTimeoutError, StorageUnavailableError

__all__ = [
    "IMMUTABLE",
    "NO_CACHE",
    "PART_SIZE",
    "S3SegmentMirror",
    "S3Store",
    "hls_key",
    "object_url",
    "open_s3_client",
]

PART_SIZE = 5 * 1024 * 1024  # the S3 minimum for every part but the last
_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "NoSuchUpload"}
T = TypeVar("T")
NO_CACHE = "no-cache"  # a live playlist changes with every segment
IMMUTABLE = "public, max-age=31536000, immutable"  # segments are content-named


@contextlib.asynccontextmanager
async def open_s3_client(
    session: Any,
    endpoint: str | None,
    region: str = "us-east-1",
    keys: tuple[str, str] | None = None,
    *,
    timeout: float = 60.0,
) -> AsyncIterator[Any]:
    """An aiobotocore S3 client with path-style addressing, closed on exit.

    Args:
        session: ``aiobotocore.session.get_session()``.
        endpoint: Endpoint URL (MinIO, moto...) or None for AWS.
        region: Region name.
        keys: (access key id, secret key); None uses the session's credentials.
    """
    config = AioConfig(
        s3={"addressing_style": "path"},
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    creds = {"aws_access_key_id": keys[0], "aws_secret_access_key": keys[1]} if keys else {}
    async with session.create_client(
        "s3", endpoint_url=endpoint, region_name=region, config=config, **creds
    ) as client:
        yield client


class S3Store:
    """Objects in one bucket.

    Args:
        client: An open aiobotocore S3 client (owned by the caller).
        bucket: Bucket name.
    """

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    async def _guard(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            message = exc.response.get("Error", {}).get("Message") or code
            if code in _MISSING:
                raise NotFoundError(f"S3 {self.bucket}: {what}: {message or 'not found'}") from exc
            raise StorageError(f"S3 {self.bucket}: {what}: {code} {message}") from exc
        except EndpointConnectionError as exc:
            raise StorageUnavailableError(f"S3 {self.bucket}: {what}: {exc}") from exc
        except TimeoutError as exc:
            raise StorageTimeoutError(f"S3 {self.bucket}: {what}: timed out") from exc
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise StorageUnavailableError(f"S3 {self.bucket}: {what}: {exc}") from exc
        except (BotoCoreError, aiohttp.ClientError) as exc:
            raise StorageError(f"S3 {self.bucket}: {what}: {exc}") from exc

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist."""
        try:
            await self._guard("head bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        except NotFoundError:
            await self._guard(
                "create bucket", lambda: self.client.create_bucket(Bucket=self.bucket)
            )

    async def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
    ) -> None:
        """Store ``data`` under ``key`` in one request."""
        extra = {"ContentType": content_type} if content_type else {}
        if cache_control:
            extra["CacheControl"] = cache_control
        await self._guard(
            f"put {key}",
            lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra),
        )

    async def put_file(
        self, key: str, path: str | os.PathLike[str], *, part_size: int = PART_SIZE
    ) -> int:
        """Upload a file, in multipart pieces of ``part_size`` when larger; returns its size."""
        path = Path(path)
        size = (await asyncio.to_thread(path.stat)).st_size
        if size <= part_size:
            await self.put_bytes(key, await asyncio.to_thread(path.read_bytes))
            return size
        created = await self._guard(
            f"start multipart {key}",
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=key),
        )
        upload_id = created["UploadId"]
        parts = []
        try:
            with path.open("rb") as fh:
                number = 1
                while piece := await asyncio.to_thread(fh.read, part_size):
                    done = await self._guard(
                        f"upload part {number} of {key}",
                        # partial binds this part's number and bytes now
                        partial(
                            self.client.upload_part,
                            Bucket=self.bucket,
                            Key=key,
                            UploadId=upload_id,
                            PartNumber=number,
                            Body=piece,
                        ),
                    )
                    parts.append({"PartNumber": number, "ETag": done["ETag"]})
                    number += 1
            await self._guard(
                f"complete multipart {key}",
                lambda: self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                ),
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            raise
        return size

    async def get(self, key: str, range: tuple[int, int | None] | None = None) -> bytes:
        """Bytes of ``key``; ``range=(start, end)`` is inclusive, ``end=None`` to the end."""
        extra = {}
        if range is not None:
            start, end = range
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"

        async def fetch() -> bytes:
            resp = await self.client.get_object(Bucket=self.bucket, Key=key, **extra)
            async with resp["Body"] as body:
                return bytes(await body.read())

        return await self._guard(f"get {key}", fetch)

    async def stream(self, key: str, *, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """Bytes of ``key`` in pieces."""
        resp = await self._guard(
            f"get {key}", lambda: self.client.get_object(Bucket=self.bucket, Key=key)
        )
        async with resp["Body"] as body:
            while True:
                piece = await self._guard(f"read {key}", lambda: body.read(chunk_size))
                if not piece:
                    return
                yield bytes(piece)

    async def list(self, prefix: str = "", *, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every object under ``prefix`` (all pages): dicts with ``key``, ``size``, ``etag``."""

        async def collect() -> list[dict[str, Any]]:
            out = []
            paginator = self.client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
            ):
                for obj in page.get("Contents", []):
                    out.append({"key": obj["Key"], "size": obj["Size"], "etag": obj.get("ETag")})
            return out

        return await self._guard(f"list {prefix!r}", collect)

    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it is absent, as S3 does)."""
        await self._guard(
            f"delete {key}", lambda: self.client.delete_object(Bucket=self.bucket, Key=key)
        )

    async def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        try:
            await self._guard(
                f"head {key}", lambda: self.client.head_object(Bucket=self.bucket, Key=key)
            )
        except NotFoundError:
            return False
        return True


def object_url(endpoint: str | None, region: str, bucket: str, key: str) -> str:
    """The path-style HTTP URL of ``key`` (``endpoint/bucket/key``; AWS when no endpoint)."""
    base = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
    return f"{base}/{bucket}/{key}"


def hls_key(run_id: str, name: str) -> str:
    """The S3 key of a run's live HLS file: ``hls/<run_id>/<name>``."""
    return f"hls/{run_id}/{name}"


class S3SegmentMirror:
    """An ``hls.mirror.SegmentMirror`` over :class:`S3Store`: one run's HLS files.

    Keys are ``hls/<run_id>/<name>``, so the playlist's relative segment URIs
    resolve next to it. Playlists (``.m3u8``) are stored ``no-cache``, segments
    ``immutable`` (their names are their content ids).

    Args:
        store: The bucket.
        run_id: The run whose files these are.
    """

    def __init__(self, store: S3Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def key(self, name: str) -> str:
        """The key of ``name``."""
        return hls_key(self.run_id, name)

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        """Store one file.

        Raises:
            StorageError: The put failed (the uploader retries).
        """
        cache = NO_CACHE if name.endswith(".m3u8") else IMMUTABLE
        await self.store.put_bytes(
            self.key(name), data, content_type=content_type, cache_control=cache
        )
