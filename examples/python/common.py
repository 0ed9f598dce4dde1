"""What the four scripts share.

sync1, async1, async2 and async3 do the same work and differ only in how
they schedule it. The work itself lives here, once: the command line, the
image URLs, the edge detector the tutorial runs on every picture, and the
report each script ends with (the tutorial's three summary lines on stderr,
one JSON line on stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from PIL import Image

# A pixel turns white when the floor of its mean difference to its
# neighbours is strictly greater than this (the tutorial's 30).
THRESHOLD = 30

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
DEFAULT_IMAGES = 12

# The tutorial's folder names, inside --out.
ORIGINALS = "original_images"
PROCESSED = "processed_images"

# Seconds before a request gives up (the tutorial's timeout=10).
REQUEST_TIMEOUT = 10


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def _count(text: str) -> int:
    """An image count: a whole number from 1 to 1000 (what evloop's host serves)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be 1..=1000, got {value}")
    return value


@dataclass
class Settings:
    """What a script was asked to do."""

    script: str
    base_url: str
    images: int
    out: Path
    quiet: bool

    @property
    def urls(self) -> list[str]:
        """`/image_1.jpg` … `/image_N.jpg` on the image host."""
        return [f"{self.base_url}/image_{k}.jpg" for k in range(1, self.images + 1)]

    def folders(self) -> tuple[Path, Path]:
        """Creates and returns the folders for the originals and the edge maps."""
        originals = self.out / ORIGINALS
        processed = self.out / PROCESSED
        for folder in (originals, processed):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                sys.exit(f"{self.script}: cannot create {folder}: {err.strerror}")
        return originals, processed


def settings(script: str, about: str) -> Settings:
    """Reads the flags every script takes."""
    parser = argparse.ArgumentParser(prog=f"{script}.py", description=about)
    parser.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        metavar="URL",
        help="the image host, serving /image_1.jpg … /image_N.jpg (default %(default)s)",
    )
    parser.add_argument(
        "--images",
        type=_count,
        default=DEFAULT_IMAGES,
        metavar="N",
        help="how many images, 1..=1000 (default %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"where {ORIGINALS}/ and {PROCESSED}/ go (default output/{script})",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no per-image progress lines on stderr"
    )
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        parser.error(f"--base-url must start with http:// or https://, got {args.base_url!r}")
    return Settings(
        script=script,
        base_url=base_url,
        images=args.images,
        out=args.out if args.out is not None else Path("output") / script,
        quiet=args.quiet,
    )


def say(line: str, quiet: bool) -> None:
    """A progress line, on stderr: stdout carries only the JSON result."""
    if not quiet:
        # One write per line, so that threads and worker processes printing
        # at the same moment do not splice their lines together.
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def with_timestamp(url: str) -> str:
    """The tutorial asks for `url?ts=<unix seconds>` so that no cache answers;
    evloop's image host ignores the query."""
    return f"{url}?ts={int(time.time())}"


# ---------------------------------------------------------------------------
# The CPU-bound part: the tutorial's edge detector
# ---------------------------------------------------------------------------

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def edge_map(pixels: list[tuple[int, int, int]], width: int, height: int) -> list:
    """One colour per pixel: WHITE on an edge, BLACK elsewhere.

    A pixel is compared with its right neighbour and the one below it, where
    they exist. The differences of the three channels are added up over the
    neighbours present and floor-divided by how many there were; above
    THRESHOLD is an edge. The bottom-right pixel has no neighbour: black.

    This is slow on purpose. It keeps the tutorial's shape operation for
    operation (one interpreter iteration per pixel, the neighbour offsets in
    a little list, the index split into x and y each time), because that
    shape is the CPU cost the comparison measures: a faster Python edge
    detector would be another benchmark.
    """
    edges = []
    for i in range(len(pixels)):
        red, green, blue = pixels[i]
        total = 0
        present = 0
        for dx, dy in [(1, 0), (0, 1)]:
            x = (i % width) + dx
            y = (i // width) + dy
            if 0 <= x < width and 0 <= y < height:
                other_red, other_green, other_blue = pixels[y * width + x]
                step = abs(red - other_red) + abs(green - other_green) + abs(blue - other_blue)
                total += step
                present += 1
        if present > 0:
            if total // present > THRESHOLD:
                edges.append((255, 255, 255))
            else:
                edges.append((0, 0, 0))
        else:
            edges.append((0, 0, 0))
    return edges


def process_image(original: Path, processed: Path, quiet: bool) -> Path:
    """Decodes one downloaded picture, draws its edge map and saves it as an
    RGB JPEG (Pillow's default quality, 75) under the same name in
    `processed`. Runs wherever the script sends it: inline, on a thread, or
    in a worker process."""
    target = processed / original.name
    with Image.open(original) as picture:
        if picture.mode != "RGB":
            picture = picture.convert("RGB")
        width, height = picture.size
        pixels = list(picture.get_flattened_data())
        edges = Image.new("RGB", (width, height))
        edges.putdata(edge_map(pixels, width, height))
        edges.save(target)
    say(f"Processed {original} and saved to {target}", quiet)
    return target


# ---------------------------------------------------------------------------
# Failures, the clock and the report
# ---------------------------------------------------------------------------


@dataclass
class Failure:
    """One image that did not make it, and why."""

    image: int
    stage: str  # "download" or "process"
    what: str  # the URL or the file
    reason: str

    @classmethod
    def of(cls, image: int, stage: str, what: object, err: BaseException) -> Failure:
        # The first line says what went wrong; httpx adds a second line
        # with a link to a page about the status code.
        lines = str(err).strip().splitlines()
        reason = lines[0] if lines else "no message"
        return cls(image, stage, str(what), f"{type(err).__name__}: {reason}")


@dataclass
class Run:
    """The three instants the tutorial measures, and what happened to each
    image. `downloaded` maps an image number to its original on disk."""

    settings: Settings
    marks: list[float] = field(default_factory=list)
    cpu: list[os.times_result] = field(default_factory=list)
    downloaded: dict[int, Path] = field(default_factory=dict)
    processed: dict[int, Path] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def mark(self) -> None:
        """Notes the time: before the first download, when the last original is
        saved, and when the last edge map is saved."""
        self.marks.append(time.perf_counter())
        self.cpu.append(os.times())

    def download_failed(self, image: int, url: str, err: BaseException) -> None:
        self.failures.append(Failure.of(image, "download", url, err))

    def process_failed(self, image: int, path: Path, err: BaseException) -> None:
        self.failures.append(Failure.of(image, "process", path, err))

    def finish(self) -> int:
        """Prints the tutorial's summary lines and any failure on stderr, the
        JSON line on stdout, and returns the exit status (1 if any image
        failed)."""
        start, downloaded, done = self.marks
        download_s = downloaded - start
        process_s = done - downloaded
        total_s = done - start

        def share(part: float) -> float:
            return part / total_s * 100 if total_s > 0 else 0.0

        quiet = self.settings.quiet
        lines = [
            "",
            f"Downloaded {len(self.downloaded)} images in: {download_s:.2f} seconds. "
            f"{share(download_s):.2f}% of total time",
            f"Processed {len(self.processed)} images in: {process_s:.2f} seconds. "
            f"{share(process_s):.2f}% of total time",
            "",
            f"Total execution time: {total_s:.2f} seconds. {share(total_s):.2f}% of total time",
        ]
        for line in lines:
            say(line, quiet)
        for failure in self.failures:
            print(
                f"{self.settings.script}: image {failure.image} failed to {failure.stage}"
                f" ({failure.what}): {failure.reason}",
                file=sys.stderr,
            )

        first, last = self.cpu[0], self.cpu[-1]
        cpu_s = (
            (last.user - first.user)
            + (last.system - first.system)
            + (last.children_user - first.children_user)
            + (last.children_system - first.children_system)
        )
        result = {
            "script": self.settings.script,
            "images": self.settings.images,
            "download_s": round(download_s, 4),
            "process_s": round(process_s, 4),
            "total_s": round(total_s, 4),
            "ok": len(self.processed),
            "failed": self.settings.images - len(self.processed),
            "cpu_s": round(cpu_s, 3),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in PACKAGES},
            "failures": [failure.__dict__ for failure in self.failures],
        }
        print(json.dumps(result), flush=True)
        return 0 if not self.failures else 1


# The libraries whose versions the JSON line names.
PACKAGES = ("requests", "httpx", "aiofiles", "pillow")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
