"""async1: asyncio around blocking code, through threads.

The tutorial's second script keeps requests and hands each blocking call to
a thread with asyncio.to_thread, all of them started at once in a
TaskGroup: a new connection per image (requests.get has no shared session).
Processing goes through to_thread too, which cannot help: the edge detector
is Python code and the interpreter lock lets one thread run it at a time.

to_thread uses the loop's default thread pool of min(32, cores + 4)
threads: on two cores, six downloads (and six edge maps) at a time.
evloop's counterpart: the `threads` variant (examples/pipeline_threads.rs),
whose threads do compute in parallel.

    uv run async1.py --base-url http://127.0.0.1:8765 --images 12 --out output/async1
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import requests

import common


def download(url: str, number: int, folder: Path, quiet: bool) -> Path:
    common.say(f"Downloading {url}...", quiet)
    response = requests.get(
        common.with_timestamp(url), timeout=common.REQUEST_TIMEOUT, allow_redirects=True
    )
    response.raise_for_status()
    path = folder / f"image_{number}.jpg"
    with path.open("wb") as file:
        for chunk in response.iter_content(chunk_size=8192):
            file.write(chunk)
    common.say(f"Downloaded and saved to: {path}", quiet)
    return path


async def settled(work):
    """Awaits `work` and hands back its result or its exception, so that one
    failed image does not make the TaskGroup cancel the others."""
    try:
        return await work
    except Exception as err:
        return err


async def main() -> int:
    settings = common.settings("async1", __doc__.splitlines()[0])
    originals, processed = settings.folders()
    run = common.Run(settings)
    quiet = settings.quiet

    run.mark()
    async with asyncio.TaskGroup() as group:
        fetches = {
            number: group.create_task(
                settled(asyncio.to_thread(download, url, number, originals, quiet))
            )
            for number, url in enumerate(settings.urls, start=1)
        }
    for (number, task), url in zip(fetches.items(), settings.urls, strict=True):
        outcome = task.result()
        if isinstance(outcome, Exception):
            run.download_failed(number, url, outcome)
        else:
            run.downloaded[number] = outcome
    run.mark()
    async with asyncio.TaskGroup() as group:
        edges = {
            number: group.create_task(
                settled(asyncio.to_thread(common.process_image, original, processed, quiet))
            )
            for number, original in run.downloaded.items()
        }
    for number, task in edges.items():
        outcome = task.result()
        if isinstance(outcome, Exception):
            run.process_failed(number, run.downloaded[number], outcome)
        else:
            run.processed[number] = outcome
    run.mark()
    return run.finish()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
