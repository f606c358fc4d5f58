"""Headless Chromium for the leaderboard page tests (Debian's chromium driven by playwright)."""

import os

CHROMIUM = os.environ.get("PRT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def open_page(browser, path):
    """A new 1400 x 1000 page showing the file ``path``, and the list of URLs it requests."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests
