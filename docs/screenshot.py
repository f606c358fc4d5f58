"""Screenshot of a leaderboard page in headless Chromium (the README's picture).

    prt leaderboard --format html --out board.html
    python docs/screenshot.py board.html docs/leaderboard.png
    python docs/screenshot.py board.html docs/leaderboard-hover.png mynet-a   # hovering mynet-a's row
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
    if len(sys.argv) > 3:  # the pointer on that row: every other row shows its paired difference to it
        page.locator(f"tr.row[data-name='{sys.argv[3]}']").first.hover()
    page.screenshot(path=sys.argv[2])
    browser.close()
