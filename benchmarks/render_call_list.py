"""Render call-list pages in headless Chromium and check the rendered rows against their CSV.

Usage:
    python benchmarks/render_call_list.py SCORES_call_lists/ [--chromium /usr/bin/chromium]
        [--screenshot page.png]

For every advisor page it asks Chromium for the DOM after rendering
(``--dump-dom``) and counts the table rows, which must equal the rows of the
page's CSV; the first page is also saved as a screenshot to look at. Chromium
is not a project dependency: on Debian, ``apt-get install chromium``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _BodyRows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_body, self.rows = False, 0

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False


def rendered_rows(chromium: str, page: Path, profile: str) -> int:
    """Return the table body rows of a page as Chromium rendered it."""
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode:
        raise SystemExit(f"chromium failed on {page}: {done.stderr[-2000:]}")
    parser = _BodyRows()
    parser.feed(done.stdout)
    return parser.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshot", type=Path, default=Path("call_list.png"))
    args = parser.parse_args()
    pages = sorted(p for p in args.folder.rglob("*.html") if p.name != "index.html")
    if not pages:
        raise SystemExit(f"no call-list pages under {args.folder}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="churn-chromium-") as profile:
        for page in pages:
            expected = len(pd.read_csv(page.with_suffix(".csv")))
            got = rendered_rows(args.chromium, page, profile)
            failures += got != expected
            print(f"{'ok ' if got == expected else 'BAD'} {page.relative_to(args.folder)}: "
                  f"{got} rendered rows, {expected} in the CSV")  # fmt: skip
        shot = subprocess.run(
            [args.chromium, *FLAGS, f"--user-data-dir={profile}", "--window-size=1600,1000",
             f"--screenshot={args.screenshot.resolve()}", pages[0].resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        print(f"screenshot of {pages[0].name}: {args.screenshot} (exit {shot.returncode})")
    print(f"{len(pages)} pages, {failures} mismatched")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
