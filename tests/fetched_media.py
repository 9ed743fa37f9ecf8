"""Real media fetched at test time from Debian packages (``scripts/media/fetch.sh``).

Nothing fetched is committed: files are cached under ``$ARTDAG_MEDIA_CACHE``
(default ``~/.cache/artdag/test-media``) and reused. :func:`fetch_debian`
raises :class:`MediaUnavailable` with the script's reason; a fixture turns that
into a skip, or a failure under ``ARTDAG_REQUIRE_SERVICES=1``, like a missing
service (``tests.conftest.unavailable``). ``bench/`` uses the same helper.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["FETCH_SCRIPT", "MediaUnavailable", "fetch_debian"]

#: The fetcher: ``fetch.sh PACKAGE PATH...`` prints ``DIR=...``.
FETCH_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "media" / "fetch.sh"


class MediaUnavailable(RuntimeError):
    """A recording could not be fetched (no mirror, unknown package, missing file)."""


def fetch_debian(package: str, paths: list[str], timeout: float = 600.0) -> Path:
    """Files ``paths`` of Debian binary package ``package``, cached.

    Args:
        package: Binary package name (``apt-get download`` fetches its candidate version).
        paths: Paths inside the package, e.g. ``usr/share/lmms/samples/beats/break02.ogg``.
        timeout: Seconds to allow for the download.

    Returns:
        The directory the ``paths`` are relative to.

    Raises:
        MediaUnavailable: With the fetcher's reason.
    """
    try:
        done = subprocess.run(
            ["bash", str(FETCH_SCRIPT), package, *paths],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaUnavailable(
            f"fetching Debian package {package} took over {timeout:.0f}s"
        ) from exc
    if done.returncode != 0:
        reason = done.stderr.strip()[-1500:] or f"exit status {done.returncode}"
        raise MediaUnavailable(f"cannot fetch {package}: {reason}")
    for line in done.stdout.splitlines():
        if line.startswith("DIR="):
            return Path(line[4:])
    raise MediaUnavailable(f"{FETCH_SCRIPT.name} printed no DIR= line for {package}")
