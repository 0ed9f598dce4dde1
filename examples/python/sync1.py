"""sync1: one thing at a time.

The tutorial's first real-world script. One requests.Session (so one
keep-alive connection) fetches the images one after the other and writes
each to disk; then the edge detector runs on them one after the other.
Every download waits out the host's latency in turn, and one core does all
the CPU work. evloop's counterpart: the `sync` variant
(examples/pipeline_sync.rs).

    uv run sync1.py --base-url http://127.0.0.1:8765 --images 12 --out output/sync1
"""

from __future__ import annotations

import sys
from pathlib import Path

import requests

import common


def download(session: requests.Session, url: str, number: int, folder: Path, quiet: bool) -> Path:
    common.say(f"Downloading {url}...", quiet)
    response = session.get(
        common.with_timestamp(url), timeout=common.REQUEST_TIMEOUT, allow_redirects=True
    )
    response.raise_for_status()
    path = folder / f"image_{number}.jpg"
    with path.open("wb") as file:
        for chunk in response.iter_content(chunk_size=8192):
            file.write(chunk)
    common.say(f"Downloaded and saved to: {path}", quiet)
    return path


def main() -> int:
    settings = common.settings("sync1", __doc__.splitlines()[0])
    originals, processed = settings.folders()
    run = common.Run(settings)
    quiet = settings.quiet

    run.mark()
    with requests.Session() as session:
        for number, url in enumerate(settings.urls, start=1):
            try:
                run.downloaded[number] = download(session, url, number, originals, quiet)
            except Exception as err:
                run.download_failed(number, url, err)
    run.mark()
    for number, original in run.downloaded.items():
        try:
            run.processed[number] = common.process_image(original, processed, quiet)
        except Exception as err:
            run.process_failed(number, original, err)
    run.mark()
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
