"""The jury's HTML report: self-contained, French by default, and rendered by a real
browser (headless Chromium) with its figures and the headline numbers on the first screen.

The Chromium tests install Chromium with apt-get when it is missing and the machine
allows it (root); they skip only when no Chromium can be had.
"""

import base64
import html
import json
import os
import re
import shutil
import subprocess

import matplotlib.image as mpimg
import numpy as np
import pytest

from pixirt import rules
from pixirt.simulation import Comparison, Population, compare, pix_like_bank

WIDTH, HEIGHT = 1280, 900
NNBSP = "\u202f"


def proposed_rules():
    data = rules.load("pix-v3").to_dict()
    data["id"] = "v3-jury-proposal"
    v3 = data["scoring"]["v3"]
    v3["intervals"][0]["min"] = -1.4
    v3["intervals"][0]["max"] = -1.0
    v3["intervals"][1]["min"] = -1.0
    v3["reject_when"] = "below_minimum_mesh"
    v3["competence_intervals"]["1.1"][2]["max"] = 0.7
    v3["competence_intervals"]["1.1"][3]["min"] = 0.7
    return rules.RuleSet.from_dict(data)


@pytest.fixture(scope="module")
def comparison():
    return compare(
        rules.load("pix-v3"),
        proposed_rules(),
        population=Population(groups={"lycée": (0.4, -0.5), "adultes": (0.6, 0.4)}),
        bank=pix_like_bank(0),
        n=500,
        seed=5,
        n_retest=120,
        n_bootstrap=200,
    )


@pytest.fixture(scope="module")
def reports(comparison, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    return {
        "fr": comparison.report(folder / "rapport.html"),
        "en": comparison.report(folder / "report.html", lang="en"),
    }


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "install", "-y", "chromium"],
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "chromium"],
        ):
            subprocess.run(cmd, env=env, capture_output=True, timeout=900, check=False)
            path = find_chromium()
            if path:
                break
    if path is None:
        pytest.skip("no Chromium on this machine and none could be installed")
    return path


def run_chromium(binary, tmp_path, *args):
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8")


def fr_number(x, decimals=0, signed=False):
    """The French way, built here independently of the report's own formatter."""
    text = f"{abs(x):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return (
        "\u2212" if round(x, decimals) < 0 else "+" if signed and round(x, decimals) > 0 else ""
    ) + text


# ---------------------------------------------------------------------------- the file itself
def test_the_report_is_one_self_contained_file(reports):
    page = reports["fr"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    for forbidden in ("http://", "https://", "<script", "<link", "url(", "@import", "<iframe"):
        assert forbidden not in page, forbidden
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) >= 7
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    for heading in (
        "Ce qui change",
        "Qui est pénalisé ?",
        "Qualité de la mesure",
        "Méthode et provenance",
    ):
        assert heading in page
    english = reports["en"].read_text(encoding="utf-8")
    assert '<html lang="en">' in english
    for heading in ("What changes", "Who is hurt?", "Measurement quality"):
        assert heading in english
    assert "Qui est pénalisé" not in english


def test_the_report_can_be_rebuilt_from_the_numbers_alone(comparison, tmp_path):
    from pixirt.simulation._first_screen import first_screen_html

    again = Comparison.from_dict(json.loads(json.dumps(comparison.to_dict())))
    page = again.report(tmp_path / "again.html").read_text(encoding="utf-8")
    first = re.search(r'<section id="first-screen".*?</section>', page, re.S)
    assert first.group(0) == first_screen_html(comparison, "fr")
    assert len(re.findall(r"<img ", page)) >= 7


# ---------------------------------------------------------------------------- in a browser
PROBE = """<script>window.addEventListener('load', () => {
  const out = {vh: window.innerHeight, vw: window.innerWidth, rects: {},
    imgs: [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight,
                                          i.getBoundingClientRect().width])};
  for (const id of ['first-screen', 'card-changed', 'card-pass', 'card-lost', 'card-worse',
                    'card-score', 'what-changes', 'who-hurt']) {
    const r = document.getElementById(id).getBoundingClientRect();
    out.rects[id] = [r.top, r.bottom];
  }
  const table = document.querySelector('#who-hurt table').getBoundingClientRect();
  out.rects['groups-table'] = [table.top, table.bottom];
  out.first = document.getElementById('first-screen').innerText;
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});</script>"""


def test_headless_chromium_renders_the_figures_and_the_headline_on_the_first_screen(
    comparison, reports, chromium, tmp_path
):
    page = reports["fr"].read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(
        chromium, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[:500]
    layout = json.loads(html.unescape(found.group(1)))

    # every figure is decoded and drawn
    n_img = len(re.findall(r"<img ", page))
    assert len(layout["imgs"]) == n_img >= 7
    for complete, width, height, shown in layout["imgs"]:
        assert complete and width > 100 and height > 100 and shown > 0

    # the headline cards and the group table are on the first screen
    vh = layout["vh"]
    assert 600 <= vh <= HEIGHT
    for card in ("card-changed", "card-pass", "card-lost", "card-worse", "card-score"):
        assert layout["rects"][card][1] <= vh, card
    assert layout["rects"]["groups-table"][1] <= vh
    assert layout["rects"]["what-changes"][0] < vh

    # and they hold the headline numbers, as a French reader expects them
    text = layout["first"]
    h = comparison.to_dict()["headline"]
    assert h["lost_certification"] > 0 and h["changed"] > h["lost_certification"]
    expected = [
        f"{fr_number(h['n'])} candidats simulés",
        f"{fr_number(h['changed'])}\nsur {fr_number(h['n'])} ({fr_number(100 * h['changed_share'], 1)}{NNBSP}%)",
        f"{fr_number(100 * h['pass_rate_baseline'], 1)}{NNBSP}% → {fr_number(100 * h['pass_rate_proposed'], 1)}{NNBSP}%",
        f"{fr_number(100 * h['pass_rate_difference'], 1)}\u00a0point",
        f"Perdent leur certification\n{fr_number(h['lost_certification'])}",
        f"{fr_number(h['mean_score_baseline'], 1)} → {fr_number(h['mean_score_proposed'], 1)}",
        f"{fr_number(h['mean_score_difference'], 1, signed=True)}\u00a0pix",
        "Qui est pénalisé ?",
        "Le groupe « lycée » est plus pénalisé que le groupe « adultes »",
        "Règle de rejet",
        "Compétence 1.1, niveau 3, borne basse",
    ]
    for piece in expected:
        assert piece in text, (piece, text[:1500])


def test_headless_chromium_screenshot_of_the_first_screen(reports, chromium, tmp_path):
    shot = tmp_path / "first-screen.png"
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", reports["fr"].as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
    image = mpimg.imread(shot)
    assert image.shape[1] == WIDTH and image.shape[0] >= 600
    assert float(np.std(image[..., :3])) > 0.05  # not a blank page
    # the blue top border of the first screen and dark headline text are drawn
    assert (image[..., 2] > 0.9).any() and (image[..., :3].sum(axis=-1) < 0.6).mean() > 0.005
    keep = os.environ.get("PIXIRT_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
