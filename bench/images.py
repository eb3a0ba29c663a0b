"""Rebuild time and peak memory of the image cleaner at its pixel cap, frames included.

Each image is noise (hard to compress, the worst case) with about
images.MAX_PIXELS pixels over all its pages (half that over an animation's
frames, its cap). Each rebuild runs in a
child process so that its peak resident size is its own.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from intake.testimonies import images

MIB = 2**20


def noise(size: tuple[int, int], seed: int, mode: str) -> Image.Image:
    return Image.effect_noise(size, 40 + seed).convert(mode)


def saved(frames: list[Image.Image], image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, image_format, save_all=len(frames) > 1, append_images=frames[1:],
                   **options)
    return out.getvalue()


def cases(megapixels: float) -> dict[str, Callable[[], bytes]]:
    """Images whose pages or frames add up to about `megapixels`."""
    side = 1000
    pages = max(1, int(megapixels * 1e6) // (side * side))
    count = max(1, pages // 2)  # animations have half the cap (see images._decoded)
    big = int((megapixels * 1e6) ** 0.5)
    return {
        f"JPEG {big}x{big}": lambda: saved([noise((big, big), 0, "RGB")], "JPEG", quality=90),
        f"PNG {big}x{big}": lambda: saved([noise((big, big), 0, "RGB")], "PNG"),
        f"animated GIF {count}x{side}x{side}": lambda: saved(
            [noise((side, side), i, "P") for i in range(count)], "GIF", duration=100),
        f"animated WebP {count}x{side}x{side}": lambda: saved(
            [noise((side, side), i, "RGB") for i in range(count)], "WEBP", duration=100,
            quality=50),
        f"CMYK TIFF {pages} pages {side}x{side}": lambda: saved(
            [noise((side, side), i, "CMYK") for i in range(pages)], "TIFF",
            compression="tiff_adobe_deflate"),
    }


def status_kib(field: str) -> int:
    """Read a memory figure of this process (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def measure(path: Path) -> dict[str, float]:
    """Rebuild one file in this process; return seconds and peak memory above baseline.

    The baseline holds the file's bytes, as the server does (decrypted into memory).
    """
    data = path.read_bytes()
    baseline = status_kib("VmRSS")
    started = time.perf_counter()
    clean, _content_type = images.scrub(io.BytesIO(data))
    seconds = time.perf_counter() - started
    peak = status_kib("VmHWM")
    return {"seconds": seconds, "peak_above_baseline_mib": (peak - baseline) / 1024,
            "in_mib": len(data) / MIB, "out_mib": len(clean) / MIB}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(Path(sys.argv[2]))))
        return
    megapixels = images.MAX_PIXELS / 1e6 * (0.25 if "--quick" in sys.argv else 0.97)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, make in cases(megapixels).items():
            path = Path(folder) / "image"
            path.write_bytes(make())
            child = subprocess.run([sys.executable, __file__, "--child", str(path)],
                                   capture_output=True, check=True, text=True)
            results[label] = json.loads(child.stdout)
            figures = results[label]
            print(f"{label}: {figures['in_mib']:.1f} MiB in, {figures['out_mib']:.1f} MiB out, "
                  f"{figures['seconds']:.1f} s, peak +{figures['peak_above_baseline_mib']:.0f} MiB")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
