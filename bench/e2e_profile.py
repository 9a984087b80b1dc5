"""Where a serving process's CPU goes: py-spy samples it, grouped by who owns the code.

Used by `bench/e2e.py --profile` around one level. py-spy writes collapsed stacks ("a;b;c N");
idle samples are left out (`--idle` is off), so the shares are of CPU time, not of wall time.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

# A sample belongs to the innermost frame outside the standard library: the package whose
# code asked for the work (json parsing called by the openai SDK counts as the SDK's).
STDLIB = {"asyncio", "json", "inspect.py", "typing.py", "contextlib.py", "abc.py", "enum.py",
          "functools.py", "re", "collections", "logging", "selectors.py", "socket.py", "ssl.py",
          "dataclasses.py", "copy.py", "weakref.py", "uuid.py", "threading.py", "queue.py",
          "<frozen runpy>", "runpy.py", "typing_extensions.py", "encodings", "string.py"}
PROJECT = {"core": "switchboard core/", "adapters": "switchboard adapters/",
           "bots": "switchboard bots/"}


class Profiler:
    """`with Profiler(pid, seconds) as p: ...; p.report(answers)`."""

    def __init__(self, pid: int, seconds: float) -> None:
        self.pid, self.seconds = pid, seconds
        self.out = Path(tempfile.mkdtemp(prefix="sbspy")) / "stacks.txt"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            print("profile: py-spy is not installed (pip install py-spy)")
            return self
        self.proc = subprocess.Popen(
            [spy, "record", "--pid", str(self.pid), "--duration", str(int(self.seconds)),
             "--rate", "200", "--format", "raw", "--nonblocking", "-o", str(self.out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)  # SIGINT: py-spy writes what it has and exits
            self.proc.wait(30)

    def report(self, answers: int) -> None:
        if not self.out.exists():
            print("profile: py-spy wrote nothing (ptrace not permitted here?)")
            return
        stacks = [line.rsplit(" ", 1) for line in self.out.read_text().splitlines() if line]
        total = sum(int(n) for _, n in stacks) or 1
        leaf: collections.Counter[str] = collections.Counter()
        owner: collections.Counter[str] = collections.Counter()
        for stack, n in stacks:
            frames = stack.split(";")
            leaf[_short(frames[-1])] += int(n)
            owner[_owner(frames)] += int(n)
        print(f"\nprofile: {total} CPU samples at 200 Hz over {answers} answers "
              f"(~{total * 5 / max(answers, 1):.1f} ms CPU sampled per answer)")
        print("by owner (innermost library frame):")
        for name, n in owner.most_common(14):
            print(f"  {100 * n / total:5.1f}%  {name}")
        print("top functions by self time:")
        for name, n in leaf.most_common(20):
            print(f"  {100 * n / total:5.1f}%  {name}")


def _short(frame: str) -> str:
    # "func (/path/to/site-packages/pkg/mod.py:123)" -> "func (pkg/mod.py:123)"
    name, _, where = frame.partition(" (")
    parts = where.rstrip(")").split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


def _package(frame: str) -> str:
    where = frame.rpartition(" (")[2]
    return where.split("/")[0].split(":")[0]


def _owner(frames: list[str]) -> str:
    for frame in reversed(frames):
        package = _package(frame)
        if package and package not in STDLIB:
            return PROJECT.get(package, package)
    return "event loop / stdlib"
