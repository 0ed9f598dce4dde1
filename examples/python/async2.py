"""async2: asyncio with async libraries, and processes for the CPU work.

The tutorial's final version. One httpx.AsyncClient fetches every image at
once in a TaskGroup and aiofiles writes each to disk; then the edge maps
go to a ProcessPoolExecutor (one worker process per core), collected with
gather(return_exceptions=True). Processes sidestep the interpreter lock:
the only Python script here that computes on every core. evloop's
counterpart: the `async` variant (examples/pipeline_async.rs): its own HTTP
client, evloop::fs, spawn_cpu.

    uv run async2.py --base-url http://127.0.0.1:8765 --images 12 --out output/async2
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiofiles
import httpx

import common


async def download(
    client: httpx.AsyncClient, url: str, number: int, folder: Path, quiet: bool
) -> Path:
    common.say(f"Downloading {url}...", quiet)
    response = await client.get(
        common.with_timestamp(url), timeout=common.REQUEST_TIMEOUT, follow_redirects=True
    )
    response.raise_for_status()
    path = folder / f"image_{number}.jpg"
    async with aiofiles.open(path, "wb") as file:
        async for chunk in response.aiter_bytes(chunk_size=8192):
            await file.write(chunk)
    common.say(f"Downloaded and saved to: {path}", quiet)
    return path


async def settled(work):
    """Awaits `work` and hands back its result or its exception, so that one
    failed image does not make the TaskGroup cancel the others."""
    try:
        return await work
    except Exception as err:
        return err


async def download_all(run: common.Run, folder: Path, fetch=download) -> None:
    """Every image at once over one shared client; `fetch` downloads one
    (async3 passes one that waits for its semaphore first)."""
    quiet = run.settings.quiet
    async with httpx.AsyncClient() as client:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(settled(fetch(client, url, number, folder, quiet)))
                for number, url in enumerate(run.settings.urls, start=1)
            ]
    for number, (task, url) in enumerate(zip(tasks, run.settings.urls, strict=True), start=1):
        outcome = task.result()
        if isinstance(outcome, Exception):
            run.download_failed(number, url, outcome)
        else:
            run.downloaded[number] = outcome


async def process_all(run: common.Run, folder: Path, workers: int | None = None) -> None:
    """Every edge map in a pool of worker processes (`workers` of them; by
    default one per core), started here and shut down when all are done."""
    loop = asyncio.get_running_loop()
    numbers = list(run.downloaded)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            loop.run_in_executor(
                pool, common.process_image, run.downloaded[n], folder, run.settings.quiet
            )
            for n in numbers
        ]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
    for number, outcome in zip(numbers, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            run.process_failed(number, run.downloaded[number], outcome)
        else:
            run.processed[number] = outcome


async def main() -> int:
    settings = common.settings("async2", __doc__.splitlines()[0])
    originals, processed = settings.folders()
    run = common.Run(settings)

    run.mark()
    await download_all(run, originals)
    run.mark()
    await process_all(run, processed)
    run.mark()
    return run.finish()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
