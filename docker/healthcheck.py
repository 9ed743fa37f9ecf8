"""Container health check of the server: ``GET http://127.0.0.1:$PORT/health`` must answer 200.

Standard library only (the slim image has no curl). Exit 0 healthy, 1 not.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    """Probe ``/health`` once and report the outcome on stdout."""
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as resp:
            print(f"{url}: {resp.status}")
            return 0 if resp.status == 200 else 1
    except urllib.error.HTTPError as exc:  # 503: a service is down; the body says which
        print(f"{url}: {exc.code} {exc.read(500).decode('utf-8', 'replace')}")
    except (OSError, ValueError) as exc:
        print(f"{url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
