"""Full-page screenshots of the jury report (French and English) for the docs.

Run from the repository root with the package installed and Chromium on the PATH:
``python docs/img/make_report_screenshots.py``. It compares ``pix-v2`` with a change of
rule 5 of the level table on 20,000 simulated candidates in two groups, with incidents,
writes both reports, and screenshots each page whole in headless Chromium (a tall window,
then the blank bottom cut off).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
from PIL import Image

from pixirt import rules
from pixirt.simulation import Population, Responder, compare, pix_like_bank

HERE = Path(__file__).resolve().parent


def proposal() -> rules.RuleSet:
    """Rule 5 of the level table (3 challenges, 1 correct, 1 neutralized) validates at 70–80 %."""
    data = rules.load("pix-v2").to_dict()
    data["id"] = "pix-v2-regle-5"
    for row in data["scoring"]["v2"]["table"]:
        if (row["challenges"], row["correct"], row["neutralized"]) == (3, 1, 1):
            row["rr_70_to_80"] = "validate"
    return rules.RuleSet.from_dict(data)


def main() -> None:
    """Compare, write both reports, screenshot them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is needed (apt-get install chromium)")
    c = compare(
        "pix-v2",
        proposal(),
        population=Population(groups={"lycéens": (0.4, -0.3), "adultes": (0.6, 0.2)}),
        bank=pix_like_bank(0),
        n=20_000,
        seed=1,
        responder=Responder(neutralize_rate=0.03, abandon_rate=0.03, technical_abort_rate=0.01),
    )
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("fr", "en"):
            page = c.report(Path(tmp) / f"report-{lang}.html", lang=lang)
            shot = Path(tmp) / f"shot-{lang}.png"
            subprocess.run(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--window-size=1280,16000",
                    f"--screenshot={shot}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            image = mpimg.imread(shot)[..., :3]
            background = image[-1, 0]  # the page's colour below its end
            used = np.flatnonzero((np.abs(image - background) > 0.02).any(axis=(1, 2)))
            bottom = int(used.max()) + 24 if len(used) else image.shape[0]
            out = HERE / f"report-{lang}.png"
            pixels = (image[: min(bottom, image.shape[0])] * 255).round().astype(np.uint8)
            Image.fromarray(pixels).quantize(256).save(out, optimize=True)
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
