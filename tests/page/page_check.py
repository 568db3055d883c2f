#!/usr/bin/env python3
"""End-to-end check of the page at GET / on the admin port, in headless Chromium.

Starts a real `querent serve` against the retail dataset (database querent_retail, loaded by
tests/common/retail.rs ensure_dataset or `psql -f ../shared/bench/retail/retail.sql`), loads
`/?q=revenue by region in 2024&db=querent_retail`, lets the page ask POST /v1/ask, and checks
the rendered DOM: the 5 regions in the table, an insight list, the chart image (loaded), and
follow-up buttons. Saves a screenshot (default target/page.png) and prints where it is.

Installs nothing: expects `chromium` on PATH (scripts/install-test-deps.sh installs it).
Environment (not QUERENT_*: querent refuses unknown QUERENT_ variables): PAGE_CHECK_BIN
(default target/debug/querent), CHROMIUM (default chromium), PAGE_CHECK_UPSTREAM,
PAGE_SCREENSHOT. Exit status 0 when every check passes.
"""

import html.parser
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("PAGE_CHECK_BIN", os.path.join(ROOT, "target", "debug", "querent"))
CHROMIUM = os.environ.get("CHROMIUM", "chromium")
UPSTREAM = os.environ.get(
    "PAGE_CHECK_UPSTREAM", "postgres://root@127.0.0.1:5432/querent_retail"
)
SHOT = os.environ.get("PAGE_SCREENSHOT", os.path.join(ROOT, "target", "page.png"))
QUESTION = "revenue by region in 2024"
REGIONS = ["North", "South", "East", "West", "Central"]
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dom(html.parser.HTMLParser):
    """Per element id: its attributes, the text inside it, and the tags nested in it."""

    VOID = {"img", "input", "br", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, id or None)
        self.attrs = {}
        self.text = {}
        self.tags = {}
        self.cells = {}  # id -> texts of the <td> elements inside it
        self.td = None

    def open_ids(self):
        return [i for _, i in self.stack if i]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for i in self.open_ids():
            self.tags.setdefault(i, []).append(tag)
        if "id" in a:
            self.attrs[a["id"]] = a
        if tag == "td":
            self.td = []
        if tag not in self.VOID:
            self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        if tag == "td" and self.td is not None:
            for i in self.open_ids():
                self.cells.setdefault(i, []).append("".join(self.td).strip())
            self.td = None
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data):
        for i in self.open_ids():
            self.text[i] = self.text.get(i, "") + data
        if self.td is not None:
            self.td.append(data)


def chromium(args, url):
    with tempfile.TemporaryDirectory(prefix="querent-page-") as profile:
        cmd = [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            *args,
            url,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    if not shutil.which(CHROMIUM):
        print(f"page_check: {CHROMIUM} is not installed", file=sys.stderr)
        return 2
    port, admin = free_port(), free_port()
    log = tempfile.NamedTemporaryFile(prefix="querent-page-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--admin-listen",
         f"127.0.0.1:{admin}", "--upstream", UPSTREAM, "--schemas", "schemas"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
    )
    failures = []
    try:
        base = f"http://127.0.0.1:{admin}"
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline or proc.poll() is not None:
                    with open(log.name, errors="replace") as f:
                        tail = f.read()[-3000:]
                    raise SystemExit(f"page_check: querent did not start; log {log.name}:\n{tail}")
                time.sleep(0.1)

        with urllib.request.urlopen(base + "/", timeout=5) as r:
            if not r.headers.get("Content-Type", "").startswith("text/html; charset=utf-8"):
                failures.append(f"GET / content type {r.headers.get('Content-Type')!r}")
            if r.headers.get("Content-Security-Policy") != CSP:
                failures.append(f"GET / CSP {r.headers.get('Content-Security-Policy')!r}")
            if r.headers.get("X-Content-Type-Options") != "nosniff":
                failures.append("GET / has no X-Content-Type-Options: nosniff")

        q = urllib.parse.urlencode({"q": QUESTION, "db": "querent_retail"}, quote_via=urllib.parse.quote)
        url = f"{base}/?{q}"
        out = chromium(["--dump-dom"], url)
        dom = Dom()
        dom.feed(out.stdout)
        if "error" in dom.attrs and "hidden" not in dom.attrs["error"]:
            failures.append("the page shows an error: " + " ".join(dom.text.get("error", "").split()))
        cells = dom.cells.get("rows", [])
        missing = [r for r in REGIONS if r not in cells]
        if missing:
            failures.append(f"regions missing from the table: {missing} (cells {cells[:20]})")
        if dom.tags.get("insights", []).count("li") < 1:
            failures.append("no insight in the insight list #insights")
        img = dom.attrs.get("chart-img", {})
        if not img.get("src", "").startswith("/v1/charts/") or not img["src"].endswith(".svg"):
            failures.append(f"no chart image (#chart-img src {img.get('src')!r})")
        elif dom.attrs.get("chart", {}).get("data-loaded") != "1":
            failures.append("the chart image did not load")
        buttons = dom.tags.get("followups", []).count("button")
        if buttons < 1:
            failures.append("no follow-up buttons in #followups")
        if not dom.text.get("summary", "").strip():
            failures.append("no summary line")

        os.makedirs(os.path.dirname(SHOT), exist_ok=True)
        shot = chromium([f"--screenshot={SHOT}", "--window-size=1280,1000"], url)
        if not os.path.exists(SHOT):
            failures.append(f"no screenshot: {shot.stderr[-500:]}")
        else:
            print(f"page_check: screenshot at {SHOT}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    if failures:
        for f in failures:
            print(f"page_check: FAIL: {f}", file=sys.stderr)
        with open(log.name, errors="replace") as f:
            tail = f.read()[-3000:]
        print(f"page_check: querent log ({log.name}) tail:\n{tail}", file=sys.stderr)
        return 1
    print(
        f"page_check: ok: {len(REGIONS)} regions, {dom.tags['insights'].count('li')} insights, "
        f"chart {img['src']}, {buttons} follow-ups"
    )
    os.unlink(log.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
