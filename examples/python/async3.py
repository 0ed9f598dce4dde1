"""async3: async2 with at most four downloads at a time.

The tutorial's last script: the same client, aiofiles and process pool as
async2, but an asyncio.Semaphore(4) lets only four downloads (the request
and the file write) run at once, and the pool's size is given explicitly as
os.cpu_count(). Against a host that answers every request after the same
latency, the gate costs time: twelve images take three rounds of latency
instead of one. evloop's counterpart: the `semaphore` variant
(examples/pipeline_semaphore.rs).

    uv run async3.py --base-url http://127.0.0.1:8765 --images 12 --out output/async3
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

import async2
import common

DOWNLOAD_LIMIT = 4
CPU_WORKERS = os.cpu_count()


async def main() -> int:
    settings = common.settings("async3", __doc__.splitlines()[0])
    originals, processed = settings.folders()
    run = common.Run(settings)
    gate = asyncio.Semaphore(DOWNLOAD_LIMIT)

    async def gated_download(
        client: httpx.AsyncClient, url: str, number: int, folder: Path, quiet: bool
    ) -> Path:
        async with gate:
            return await async2.download(client, url, number, folder, quiet)

    run.mark()
    await async2.download_all(run, originals, fetch=gated_download)
    run.mark()
    await async2.process_all(run, processed, workers=CPU_WORKERS)
    run.mark()
    return run.finish()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
