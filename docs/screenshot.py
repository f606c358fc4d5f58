"""Screenshot of a leaderboard page in headless Chromium (the README's picture).

    prt leaderboard --format html --out board.html
    python docs/screenshot.py board.html docs/leaderboard.png
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(Path(sys.argv[1]).resolve().as_uri())
    page.screenshot(path=sys.argv[2])
    browser.close()
