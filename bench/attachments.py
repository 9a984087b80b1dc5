"""A 12 MP phone photo from downloaded bytes to the model's content block: time and memory.

Each contestant runs in a fresh process, so its peak RSS is its own: Switchboard's path
(`core.inputs.prepare`, then the stored message as LangChain content) against a plain Pillow
path written the obvious way (open, convert, thumbnail to 2048 px, re-encode), measured in the
same run. Run: .venv/bin/python bench/attachments.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def status_mb(field: str) -> float:
    """A memory figure of this process from Linux's /proc/self/status (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Linux: writing 5 to clear_refs sets the peak RSS (VmHWM) back to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


async def switchboard(data: bytes) -> int:
    from core import inputs
    from core.attachments import Limits, Upload
    from core.messages import StoredMessage
    from core.transcribe import OfflineTranscriber

    given = await inputs.prepare("what is this?", [Upload("IMG_0001.jpg", data)], Limits(),
                                 OfflineTranscriber(), 4000)
    message = StoredMessage("human", given.text, 0, files=tuple(given.files))
    block = message.with_images(given.files).content[1]
    return len(str(block))


def pillow(data: bytes, convert_first: bool) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image = image.convert("RGB") if convert_first else image  # the first decodes 12 MP
    image.thumbnail((2048, 2048))  # Pillow's own thumbnail uses JPEG draft mode when it can
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return len("data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode())


async def convert_then_thumbnail(data: bytes) -> int:
    return await asyncio.to_thread(pillow, data, True)


async def pillow_thumbnail(data: bytes) -> int:
    return await asyncio.to_thread(pillow, data, False)


def child(name: str, path: str, runs: int) -> None:
    """One contestant in this process: warm up on a small photo, then time the real one."""
    from tests import media

    run = {"switchboard": switchboard, "convert-then-thumbnail": convert_then_thumbnail,
           "pillow-thumbnail": pillow_thumbnail}[name]
    data = Path(path).read_bytes()
    asyncio.run(run(media.jpeg(640, 480)))  # imports and codecs loaded before the baseline
    times, growth = [], []
    for _ in range(runs):
        reset_peak()
        base, start = status_mb("VmRSS"), time.perf_counter()
        asyncio.run(run(data))
        times.append((time.perf_counter() - start) * 1000)
        growth.append(status_mb("VmHWM") - base)
    print(json.dumps({"ms": statistics.median(times), "peak_growth_mb": max(growth)}))


def measure(name: str, path: Path, runs: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(path), str(runs)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    from tests import media

    runs = 3 if args.quick else 10
    names = ("switchboard", "convert-then-thumbnail", "pillow-thumbnail")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "IMG_0001.jpg")
        path.write_bytes(media.jpeg(4000, 3000))
        size_mb = path.stat().st_size / 2**20
        got = {name: measure(name, path, runs) for name in names}
    print(f"12 MP JPEG, {size_mb:.1f} MB, median of {runs} runs, each in a process of its own")
    for name, figures in got.items():
        peak = figures["peak_growth_mb"]
        print(f"  {name:<23} {figures['ms']:7.1f} ms   peak RSS growth {peak:6.1f} MB "
              f"({peak / size_mb:.1f}x the file)")
    ours = got["switchboard"]
    ratios = " ".join(
        f"time_ratio_vs_{n.replace('-', '_')}={got[n]['ms'] / ours['ms']:.1f} "
        f"memory_ratio_vs_{n.replace('-', '_')}="
        f"{got[n]['peak_growth_mb'] / max(ours['peak_growth_mb'], 0.1):.1f}" for n in names[1:])
    print(f"photo_ms={ours['ms']:.1f} photo_peak_x_file={ours['peak_growth_mb'] / size_mb:.2f} "
          f"{ratios}")


if __name__ == "__main__":
    main()
