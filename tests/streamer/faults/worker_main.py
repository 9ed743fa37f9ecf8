"""The fault tests' worker process: one artdag arq worker configured from the environment.

``FAULTS_MAX_JOBS`` (default 1) jobs at once; no warm-up (the process stays
light on a shared machine). Logs go to stderr, which the test keeps in a file.
"""

from __future__ import annotations

import logging
import os

from streamer.entry.worker import create_worker
from streamer.settings import Settings


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env(os.environ)
    worker = create_worker(settings, max_jobs=int(os.environ.get("FAULTS_MAX_JOBS", "1")))
    worker.run()


if __name__ == "__main__":
    main()
