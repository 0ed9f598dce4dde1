"""Runs the four Python scripts beside evloop's five variants, on one image
host, and prints the comparison as Markdown.

    uv run compare.py                      # 3 rounds of 12 images
    uv run compare.py --rounds 5 --images 48

What it does, in order:

1. builds evloop's demo and image host in release mode (`cargo build
   --release`, which does nothing when they are up to date);
2. starts the image host on a free port of 127.0.0.1 (or uses --base-url);
3. runs, round after round, each Python script and then its evloop
   counterpart (sync1, sync, async1, threads, async2, async, async3,
   semaphore, then streaming), each in a process of its own, so that a
   pair sees the machine in the same state;
4. prints the date, the machine, the versions and this command, then the
   medians: the totals each program prints, and the wall time of each
   whole process from start to exit.

Progress goes to stderr; the Markdown goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Each Python script, what the README says about it, and its evloop
# counterpart. `streaming` has no Python counterpart: it comes last.
PAIRS = [
    ("sync1", "requests", "sync"),
    ("async1", "to_thread", "threads"),
    ("async2", "httpx, process pool", "async"),
    ("async3", "Semaphore(4)", "semaphore"),
]
UNPAIRED = ["streaming"]


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compare.py",
        description="The tutorial's Python scripts beside evloop's variants, on one image host.",
    )
    parser.add_argument(
        "--rounds",
        type=positive,
        default=3,
        metavar="N",
        help="runs of each program; the table shows medians (default %(default)s)",
    )
    parser.add_argument(
        "--images",
        type=positive,
        default=12,
        metavar="N",
        help="images per run, 1..=1000 (default %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=300,
        metavar="MS",
        help="the image host's delay per request (default %(default)s)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="use this image host instead of starting evloop's "
        "(it must serve /image_1.jpg … /image_N.jpg)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="keep the downloaded and processed images here "
        "(default: a temporary folder, removed at the end)",
    )
    parser.add_argument(
        "--raw",
        type=Path,
        metavar="FILE",
        help="also write every run's figures here, one JSON object a line",
    )
    args = parser.parse_args()
    if args.images > 1000:
        parser.error(f"--images must be 1..=1000, got {args.images}")
    if args.latency_ms < 0:
        parser.error(f"--latency-ms must be 0 or more, got {args.latency_ms}")
    return args


def note(line: str) -> None:
    """Progress, on stderr."""
    print(line, file=sys.stderr, flush=True)


class Failed(Exception):
    """The comparison cannot go on; the message says why."""


# ---------------------------------------------------------------------------
# Building and starting evloop's programs
# ---------------------------------------------------------------------------


def check_libraries() -> None:
    """The scripts run on this interpreter: their libraries must be here."""
    missing = []
    for module in ("requests", "httpx", "aiofiles", "PIL"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise Failed(
            f"{sys.executable} lacks {', '.join(missing)}: run `uv run compare.py` "
            f"inside {HERE} (or `uv run --directory {HERE} compare.py`)"
        )


def build(with_host: bool, into: Path) -> dict[str, Path]:
    """Builds the demo (and the image host) in release mode and copies the
    executables into `into`, so that a rebuild during the comparison (a
    shared target folder, another checkout) cannot swap them midway."""
    command = [
        "cargo",
        "build",
        "--release",
        "--bin",
        "evloop",
        "--message-format=json-render-diagnostics",
    ]
    if with_host:
        command += ["--example", "image_server"]
    note(f"building: {shlex.join(command)} (in {REPO})")
    try:
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise Failed("cargo is not on PATH: install Rust (https://rustup.rs) first") from None
    if done.returncode != 0:
        raise Failed(f"`{shlex.join(command)}` failed (exit status {done.returncode})")
    found = {}
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            name = message["target"]["name"]
            copy = into / name
            shutil.copy2(message["executable"], copy)
            found[name] = copy
    wanted = ["evloop"] + (["image_server"] if with_host else [])
    missing = [name for name in wanted if name not in found]
    if missing:
        raise Failed(f"cargo built no executable named {', '.join(missing)}")
    return found


class Host:
    """evloop's image host (examples/image_server.rs) in a child process."""

    def __init__(self, program: Path, images: int, latency_ms: int, log: Path):
        self.log = log
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [
                    str(program),
                    "--port",
                    "0",
                    "--images",
                    str(images),
                    "--latency-ms",
                    str(latency_ms),
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.base_url = self._wait_for_address()

    def _wait_for_address(self, within: float = 120.0) -> str:
        """The host draws its pictures, then prints `listening http://…`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = re.search(r"^listening (http://\S+)", self.log.read_text(), re.MULTILINE)
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise Failed(f"the image host exited: {self.log.read_text().strip()}")
            time.sleep(0.1)
        raise Failed(f"the image host did not start listening within {within:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


@dataclass
class Result:
    """One run of one program."""

    name: str
    side: str  # "python" or "evloop"
    round: int
    download_s: float
    process_s: float
    total_s: float
    wall_s: float  # the whole child process, from start to exit
    cpu_s: float  # its user + system time, its own children included

    def row(self) -> dict:
        return self.__dict__.copy()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(command: list[str], timeout: float) -> tuple[str, float, float]:
    """Runs a program to its end; returns its stdout, its wall time and its
    CPU time (the child and every descendant it waited for)."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise Failed(f"`{shlex.join(command)}` ran over {timeout:.0f} s") from None
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise Failed(f"`{shlex.join(command)}` exited with status {done.returncode}:\n{tail}")
    return done.stdout, wall, cpu


def last_json(stdout: str, command: list[str]) -> dict:
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise Failed(f"`{shlex.join(command)}` printed no JSON line") from None


def run_python(
    script: str, round_: int, base_url: str, images: int, out: Path, timeout: float
) -> Result:
    command = [
        sys.executable,
        str(HERE / f"{script}.py"),
        "--base-url",
        base_url,
        "--images",
        str(images),
        "--out",
        str(out / "python" / script),
        "--quiet",
    ]
    stdout, wall, cpu = run_child(command, timeout)
    got = last_json(stdout, command)
    if got["failed"]:
        raise Failed(f"{script}: {got['failed']} image(s) failed: {got['failures'][0]}")
    return Result(
        script, "python", round_, got["download_s"], got["process_s"], got["total_s"], wall, cpu
    )


def run_evloop(
    program: Path,
    variant: str,
    round_: int,
    base_url: str,
    images: int,
    latency_ms: int,
    out: Path,
    timeout: float,
) -> Result:
    # --no-trace: no timelines are drawn, as the Python scripts draw none.
    command = [
        str(program),
        "--variant",
        variant,
        "--json",
        "--quiet",
        "--no-trace",
        "--images",
        str(images),
        "--latency-ms",
        str(latency_ms),
        "--base-url",
        base_url,
        "--out",
        str(out / "evloop"),
    ]
    stdout, wall, cpu = run_child(command, timeout)
    got = last_json(stdout, command)
    matching = [v for v in got.get("variants", []) if v.get("variant") == variant]
    if len(matching) != 1:
        raise Failed(f"`{shlex.join(command)}` printed no figures for {variant}")
    figures = matching[0]
    if figures["failed"]:
        raise Failed(
            f"evloop {variant}: {figures['failed']} image(s) failed: {figures['failures'][0]}"
        )
    return Result(
        variant,
        "evloop",
        round_,
        figures["download_s"],
        figures["process_s"],
        figures["total_s"],
        wall,
        cpu,
    )


# ---------------------------------------------------------------------------
# Where and with what it ran
# ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown memory"


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def evloop_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except FileNotFoundError:
        return "unknown commit"
    if not commit:
        return "unknown commit"
    return commit + (" with uncommitted changes" if dirty else "")


def this_command() -> str:
    """The command line as the reader would type it, and where."""
    args = shlex.join(sys.argv[1:])
    launcher = (
        "uv run compare.py"
        if os.environ.get("UV_RUN_RECURSION_DEPTH")
        else f"python {Path(sys.argv[0]).name}"
    )
    return f"{launcher} {args}".strip()


def versions() -> str:
    names = ["pillow", "httpx", "requests", "aiofiles"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return ", ".join(found)


# ---------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.1f}×" if fast > 0 else "n/a"


def medians(results: list[Result]) -> dict[str, dict[str, float]]:
    """Per program, the median of each column on its own."""
    names = dict.fromkeys(r.name for r in results)
    table = {}
    for name in names:
        mine = [r for r in results if r.name == name]
        table[name] = {
            column: statistics.median(getattr(r, column) for r in mine)
            for column in ("download_s", "process_s", "total_s", "wall_s", "cpu_s")
        }
    return table


def markdown(m: dict[str, dict[str, float]], header: list[str]) -> str:
    out = list(header)

    out += ["", "| Python script | total | evloop variant | total |", "| --- | ---: | --- | ---: |"]
    for script, what, variant in PAIRS:
        out.append(
            f"| `{script}` ({what}) | {seconds(m[script]['total_s'])} "
            f"| `{variant}` | {seconds(m[variant]['total_s'])} |"
        )
    for variant in UNPAIRED:
        out.append(f"| | | `{variant}` | {seconds(m[variant]['total_s'])} |")

    python = [script for script, _, _ in PAIRS]
    evloop = [variant for _, _, variant in PAIRS] + UNPAIRED

    def best_against_best(column: str, what: str) -> str:
        """Python's fastest program against evloop's fastest, by `column`."""
        py = min(python, key=lambda n: m[n][column])
        ev = min(evloop, key=lambda n: m[n][column])
        return (
            f"{what}: **{ratio(m[py][column], m[ev][column])}** "
            f"(Python `{py}` {seconds(m[py][column])}, evloop `{ev}` {seconds(m[ev][column])})."
        )

    out += [
        "",
        best_against_best("total_s", "Best against best, the totals each program prints"),
        best_against_best("wall_s", "Whole process against whole process, from start to exit"),
    ]

    out += [
        "",
        "| Python script | download | process | total | evloop variant | total | speed-up |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for script, _, variant in PAIRS:
        p, e = m[script], m[variant]
        out.append(
            f"| `{script}` | {seconds(p['download_s'])} | {seconds(p['process_s'])} "
            f"| {seconds(p['total_s'])} | `{variant}` | {seconds(e['total_s'])} "
            f"| {ratio(p['total_s'], e['total_s'])} |"
        )
    for variant in UNPAIRED:
        out.append(f"| | | | | `{variant}` | {seconds(m[variant]['total_s'])} | |")

    out += [
        "",
        "| Python script | whole process | CPU | evloop variant | whole process | CPU | speed-up |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for script, _, variant in PAIRS:
        p, e = m[script], m[variant]
        out.append(
            f"| `{script}` | {seconds(p['wall_s'])} | {seconds(p['cpu_s'])} "
            f"| `{variant}` | {seconds(e['wall_s'])} | {seconds(e['cpu_s'])} "
            f"| {ratio(p['wall_s'], e['wall_s'])} |"
        )
    for variant in UNPAIRED:
        e = m[variant]
        out.append(f"| | | | `{variant}` | {seconds(e['wall_s'])} | {seconds(e['cpu_s'])} | |")

    out += [
        "",
        "Medians are taken column by column, so a row need not add up. *total* is what each "
        "program prints (first request to last edge map saved); *whole process* is the wall "
        "time of the program from start to exit (interpreter start-up, imports, pool start "
        "and shutdown included); *CPU* is that process's user and system time, its worker "
        "processes included.",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    started = datetime.now().astimezone()
    load_before = load()
    work = Path(tempfile.mkdtemp(prefix="evloop-compare-"))
    out = args.out if args.out is not None else work / "images"
    host = None
    results: list[Result] = []
    raw = args.raw.open("w") if args.raw else None
    try:
        check_libraries()
        programs = build(with_host=args.base_url is None, into=work)
        if args.base_url:
            base_url = args.base_url.rstrip("/")
            source = f"the image host at {base_url}"
        else:
            host = Host(
                programs["image_server"], args.images, args.latency_ms, work / "image_server.log"
            )
            base_url = host.base_url
            source = (
                f"evloop's image host (`cargo run --release --example image_server`, "
                f"{args.latency_ms} ms per request)"
            )
        note(f"image host: {base_url}")
        # Generous: sync1 needs about 3 s an image on a slow core.
        timeout = 120.0 + 30.0 * args.images
        # Each Python script, then its evloop twin; streaming last.
        order = [
            (side, name)
            for script, _, variant in PAIRS
            for side, name in (("python", script), ("evloop", variant))
        ]
        order += [("evloop", variant) for variant in UNPAIRED]
        for round_ in range(1, args.rounds + 1):
            for side, name in order:
                if side == "python":
                    result = run_python(name, round_, base_url, args.images, out, timeout)
                else:
                    result = run_evloop(
                        programs["evloop"],
                        name,
                        round_,
                        base_url,
                        args.images,
                        args.latency_ms,
                        out,
                        timeout,
                    )
                results.append(result)
                note(
                    f"round {round_}/{args.rounds}: {side} {name:<9} "
                    f"total {result.total_s:7.2f} s, whole process {result.wall_s:7.2f} s"
                )
                if raw:
                    raw.write(json.dumps(result.row()) + "\n")
                    raw.flush()
    except Failed as err:
        note(f"compare.py: {err}")
        return 1
    finally:
        if host:
            host.stop()
        if raw:
            raw.close()
        shutil.rmtree(work, ignore_errors=True)

    where = ""
    try:
        cwd = Path.cwd().resolve().relative_to(REPO)
        where = f" (in `{cwd}`)" if str(cwd) != "." else " (at the top of the repository)"
    except ValueError:
        pass
    header = [
        f"Measured on {started:%Y-%m-%d} at {started:%H:%M %Z}: {cpu_model()}, "
        f"{os.cpu_count()} cores, {memory_gib()}, Linux {platform.release()}; "
        f"load average {load_before} before, {load()} after.",
        f"evloop {evloop_commit()}; Python {platform.python_version()} ({versions()}).",
        f"{args.images} images from {source}; median of {args.rounds} "
        f"round{'s' if args.rounds != 1 else ''}, each program in turn beside its counterpart.",
        f"Command: `{this_command()}`{where}.",
    ]
    print(markdown(medians(results), header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
