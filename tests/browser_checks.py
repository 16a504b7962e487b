"""What a reader's browser sees of a page, and the checks on it (used by test_browser.py).

A folder of HTML is served by a threaded http.server on 127.0.0.1 (an ephemeral port);
Debian's chromium, driven by Playwright, opens each page in a fresh browser context that
may fetch from that server only (anything else is aborted before it leaves the browser,
and recorded as a problem: the site must work offline). `visit` loads a page, waits for
MathJax to finish typesetting and for the fonts, and returns its `Facts`: what went
wrong while loading, unrendered TeX, images, links, the sidebar, copy buttons, hidden
inputs, download links and the page text; `layout` measures, at a given window width,
where each display equation and each code block lies against the text column. Each
`*_problems` function turns facts into a
list of problems (empty when the page is fine), so the same function checks the book and
the deliberately broken pages that prove it can fail.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
PHONE_WIDTH = 390  # a phone held upright (iPhone 12 to 15): the narrowest layout a reader uses


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve `folder` on 127.0.0.1 at an ephemeral port; yield the base URL ('http://.../')."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


# The page as a reader sees it once it has settled: images decoded, MathJax done, fonts in.
READY_JS = r"""
async () => {
  // Images that are lazy would load only when scrolled to: load them all now.
  for (const img of document.images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
}
"""

# Collected after the screenshot (it opens the sidebar's sections and switches the theme).
FACTS_JS = r"""
async (theme) => {

  // TeX left as text: delimiters outside code, outside what MathJax rendered.
  const SKIP = 'code, pre, kbd, samp, script, style, textarea, noscript, mjx-container, .highlight';
  const TEX = /\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$]*\$/;
  const rawTex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest(SKIP)) continue;
    if (TEX.test(node.nodeValue)) rawTex.push(node.nodeValue.trim().slice(0, 120));
  }
  const mathElements = [...document.querySelectorAll('.math')];
  const untypeset = mathElements.filter(el => !el.querySelector('mjx-container'))
                                .map(el => el.textContent.trim().slice(0, 120));
  const texErrors = [...document.querySelectorAll('mjx-merror')].map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 120));

  const images = [...document.images].map(img => ({
    src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
  }));

  // Dark mode: is each image opaque, or does the page give it a light background?
  document.documentElement.dataset.theme = theme;
  const canvas = document.createElement('canvas'), ctx = canvas.getContext('2d', {willReadFrequently: true});
  const darkImages = [...document.images].filter(img => img.complete && img.naturalWidth > 0).map(img => {
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0);
    let minAlpha = 255;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const step = Math.max(1, Math.floor(data.length / 4 / 20000));
    for (let i = 3; i < data.length; i += 4 * step) minAlpha = Math.min(minAlpha, data[i]);
    // The colour behind the image: its own background, else the nearest ancestor's.
    let background = 'rgba(0, 0, 0, 0)';
    for (let el = img; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { background = c; break; }
    }
    return {src: img.currentSrc || img.src, minAlpha, background};
  });
  document.documentElement.dataset.theme = 'light';

  const nav = document.querySelector('nav.bd-docs-nav');
  let sidebar = [];
  if (nav) {
    nav.querySelectorAll('details').forEach(d => { d.open = true; });
    sidebar = [...nav.querySelectorAll('a[href]')].map(a => ({href: a.href, visible: a.getClientRects().length > 0}));
  }

  const hideInput = [...document.querySelectorAll('.cell.tag_hide-input')].map(cell => {
    const details = cell.querySelector('details.hide');
    return {toggle: !!details, closed: !!details && !details.open,
            inputInside: !!details && !!details.querySelector('.cell_input')};
  });

  return {
    title: document.title,
    rawTex, mathElements: mathElements.length, untypeset, texErrors,
    mjx: document.querySelectorAll('mjx-container').length,
    images, darkImages,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    sidebar,
    codeBlocks: document.querySelectorAll('div.highlight pre').length,
    copyButtons: document.querySelectorAll('div.highlight button.copybtn').length,
    hideInput,
    downloads: [...document.querySelectorAll('.dropdown-download-buttons a[href]')].map(a => a.href),
    repositoryButtons: [...document.querySelectorAll('.article-header-buttons a[href]')].map(a => a.href)
                        .filter(h => h.startsWith('http') && !h.startsWith(location.origin)),
    // search boxes and buttons a reader can see (the primary sidebar's included)
    searchControls: [...document.querySelectorAll('.search-button, .search-button-field, form.bd-search')]
                     .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
                     .map(el => el.className),
    visibleText: document.body.innerText,
    allText: document.body.textContent,
  };
}
"""


@dataclass
class Facts:
    url: str
    problems_loading: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]


def visit(browser, url: str, screenshot: Path | None = None, dark_screenshot: Path | None = None,
          theme: str = "dark") -> Facts:
    """Open `url` as a reader would; return what the page shows and what went wrong."""
    origin = "{0.scheme}://{0.netloc}/".format(urllib.parse.urlsplit(url))
    facts = Facts(url)
    problems = facts.problems_loading
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")

    def only_local(route):
        if route.request.url.startswith(origin) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"request outside the site (the site must work offline): {route.request.url}")
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: req.url.startswith(origin)
            and problems.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda resp: resp.status >= 400 and problems.append(f"HTTP {resp.status}: {resp.url}"))
    try:
        page.goto(url, wait_until="load")
        page.evaluate(READY_JS)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        facts.data = page.evaluate(FACTS_JS, theme)
        facts.data["darkPlates"] = _dark_figure_edges(page)
        if dark_screenshot is not None:
            page.evaluate("document.documentElement.dataset.theme = 'dark'")
            figure = page.locator(".bd-article img").first
            if figure.count():
                figure.scroll_into_view_if_needed()
            dark_screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(dark_screenshot))
    finally:
        context.close()
    return facts


# The page's layout at one window width: does any display equation or code block stick
# out of the text column? Every toggle is opened first, so that folded code is measured too.
LAYOUT_JS = r"""
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const box = column.getBoundingClientRect(), style = getComputedStyle(column);
  const left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
  const px = v => Math.round(v);
  const equations = [...column.querySelectorAll('mjx-container[display="true"]')].map(c => {
    const math = c.querySelector('mjx-math') || c;
    const r = math.getBoundingClientRect();
    // A box between the equation and the column that hides or scrolls part of it.
    let clipped = null;
    for (let el = c; el && el !== column; el = el.parentElement) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
        clipped = `${el.tagName.toLowerCase()} shows ${el.clientWidth} of ${el.scrollWidth} px`; break;
      }
    }
    const eqno = c.parentElement && c.parentElement.querySelector(':scope > .eqno');
    let collides = false;
    if (eqno) {
      const n = eqno.getBoundingClientRect();
      collides = n.left < r.right - 1 && n.right > r.left + 1 && n.top < r.bottom - 1 && n.bottom > r.top + 1;
    }
    const label = (c.parentElement.id || '') + ' ' + (c.getAttribute('aria-label') || c.textContent).trim();
    return {label: label.trim().slice(0, 80), left: px(r.left), right: px(r.right), width: px(r.width),
            clipped, collides};
  });
  const code = [...column.querySelectorAll('pre')].filter(p => p.getClientRects().length).map(p => {
    const lines = p.textContent.split('\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    return {scroll: p.scrollWidth, client: p.clientWidth, longest: longest.slice(0, 100), chars: longest.length};
  });
  return {width: window.innerWidth, column: [px(left), px(right)], equations, code};
}
"""


def layout(browser, url: str, width: int) -> dict:
    """Where the display equations and code blocks of `url` lie at a window `width` px wide."""
    context = browser.new_context(viewport={"width": width, "height": VIEWPORT["height"]}, service_workers="block")
    origin = "{0.scheme}://{0.netloc}/".format(urllib.parse.urlsplit(url))
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith((origin, "data:"))
                  else route.abort())
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.evaluate(READY_JS)
        return page.evaluate(LAYOUT_JS)
    finally:
        context.close()


def _dark_figure_edges(page) -> list[dict]:
    """In dark mode, the luminance (0..1) of each figure's outer edge as the reader sees
    it, CSS filters included: a light edge is a plate of white around the figure."""
    import io

    from PIL import Image

    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    edges = []
    try:
        images = page.locator("article img, .bd-article img")
        for i in range(images.count()):
            img = images.nth(i)
            if not img.is_visible():
                continue
            img.scroll_into_view_if_needed()
            shot = Image.open(io.BytesIO(img.screenshot())).convert("L")
            w, h = shot.size
            ring = [shot.getpixel((x, y)) for x in range(0, w, 4) for y in (1, h - 2)]
            ring += [shot.getpixel((x, y)) for y in range(0, h, 4) for x in (1, w - 2)]
            edges.append({"src": img.get_attribute("src"), "luminance": sum(ring) / len(ring) / 255})
    finally:
        page.evaluate("document.documentElement.dataset.theme = 'light'")
    return edges


# ---------------------------------------------------------------- the checks

def loading_problems(facts: Facts) -> list[str]:
    return list(facts.problems_loading)


def math_problems(facts: Facts) -> list[str]:
    problems = [f"raw TeX on the page: {t!r}" for t in facts["rawTex"]]
    problems += [f"math not typeset by MathJax: {t!r}" for t in facts["untypeset"]]
    problems += [f"MathJax error: {t!r}" for t in facts["texErrors"]]
    if facts["mathElements"] and not facts["mjx"]:
        problems.append("the page has math but no MathJax output")
    return problems


def image_problems(facts: Facts) -> list[str]:
    problems = []
    for img in facts["images"]:
        name = img["src"].rsplit("/", 1)[-1]
        if not img["loaded"]:
            problems.append(f"image does not load: {img['src']}")
        alt = (img["alt"] or "").strip()
        if not alt:
            problems.append(f"image without alt text: {name}")
        elif re.fullmatch(r"\S+\.(png|jpe?g|svg|gif|webp)", alt):
            problems.append(f"image whose alt text is only a file name: {name} (alt={alt!r})")
    return problems


def _luminance(css_colour: str) -> tuple[float, float]:
    """(relative luminance 0..1, alpha 0..1) of a computed 'rgb()' / 'rgba()' colour."""
    numbers = [float(x) for x in re.findall(r"[\d.]+", css_colour)]
    r, g, b = numbers[:3]
    alpha = numbers[3] if len(numbers) > 3 else 1.0
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255, alpha


def dark_mode_problems(facts: Facts) -> list[str]:
    """In dark mode a figure must not show dark ink on a dark page: every image is
    opaque, or the page puts it on a light, opaque background."""
    problems = []
    for img in facts["darkImages"]:
        luminance, alpha = _luminance(img["background"])
        if img["minAlpha"] < 255 and not (alpha == 1.0 and luminance > 0.8):
            problems.append(f"transparent image on a dark background in dark mode: {img['src']} "
                            f"(min alpha {img['minAlpha']}, behind it {img['background']})")
    return problems


def equation_overflow_problems(layout: dict) -> list[str]:
    """Every display equation lies inside the text column, whole: nothing cut off, nothing
    to scroll, and its number beside it rather than over it."""
    (left, right), problems = layout["column"], []
    for eq in layout["equations"]:
        where = f"at {layout['width']} px: {eq['label']!r}"
        if eq["right"] > right + 1 or eq["left"] < left - 1:
            problems.append(f"equation wider than the column ({eq['width']} px, column {right - left} px) {where}")
        elif eq["clipped"]:
            problems.append(f"equation cut off or scrolled ({eq['clipped']}) {where}")
        if eq["collides"]:
            problems.append(f"equation number on top of the equation {where}")
    return problems


def code_scroll_problems(layout: dict) -> list[str]:
    """No code block or code output scrolls sideways: every line fits the column."""
    return [f"code scrolls sideways at {layout['width']} px ({block['client']} of {block['scroll']} px shown; "
            f"longest line, {block['chars']} characters: {block['longest']!r})"
            for block in layout["code"] if block["scroll"] > block["client"] + 1]


def dark_plate_problems(facts: Facts) -> list[str]:
    """In dark mode a figure reads on the dark page itself: its edge is dark, not a white
    or grey plate (the theme's default dims an opaque figure to grey and pads it)."""
    return [f"figure on a light plate in dark mode (edge luminance {img['luminance']:.2f}): {img['src']}"
            for img in facts["darkPlates"] if img["luminance"] > 0.3]


def copy_button_problems(facts: Facts) -> list[str]:
    if facts["copyButtons"] < facts["codeBlocks"]:
        return [f"{facts['codeBlocks'] - facts['copyButtons']} of {facts['codeBlocks']} code blocks have no copy button"]
    return []


def hide_input_problems(facts: Facts, expected: int) -> list[str]:
    """`expected` cells are tagged hide-input in the page's source: each must be a closed toggle."""
    cells = facts["hideInput"]
    problems = []
    if len(cells) != expected:
        problems.append(f"{expected} hide-input cells in the source, {len(cells)} on the page")
    for i, cell in enumerate(cells):
        if not (cell["toggle"] and cell["closed"] and cell["inputInside"]):
            problems.append(f"hide-input cell {i} is not a closed toggle around its code: {cell}")
    return problems


def sidebar_problems(facts: Facts, base: str, pages: list[str]) -> list[str]:
    """Every page of the table of contents is linked, and visible, in the sidebar."""
    links = {}
    for link in facts["sidebar"]:
        path = urllib.parse.urlsplit(link["href"]).path
        links[path] = links.get(path, False) or link["visible"]
    problems = []
    for page in pages:
        path = urllib.parse.urlsplit(base + page + ".html").path
        if path not in links:
            problems.append(f"the sidebar does not link {page}")
        elif not links[path]:
            problems.append(f"the sidebar's link to {page} cannot be seen, even with every section expanded")
    return problems


class LinkChecker:
    """Fetches each internal target once (HTTP 200 and the ids on it), for every page."""

    def __init__(self):
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._cache: dict[str, tuple[int, set[str]]] = {}

    def target(self, url: str) -> tuple[int, set[str]]:
        if url not in self._cache:
            try:
                with self._opener.open(url, timeout=30) as resp:
                    status, body = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, b""
            ids = set()
            if url.endswith(".html") or url.endswith("/"):
                text = body.decode("utf-8", errors="replace")
                ids = set(re.findall(r'\b(?:id|name)="([^"]+)"', text))
            self._cache[url] = (status, ids)
        return self._cache[url]

    def problems(self, facts: Facts) -> list[str]:
        origin = "{0.scheme}://{0.netloc}/".format(urllib.parse.urlsplit(facts.url))
        problems = []
        for href in sorted(set(facts["links"])):
            if not href.startswith(origin):
                continue  # other sites, mailto:, javascript:
            parts = urllib.parse.urlsplit(href)
            url = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))
            status, ids = self.target(url)
            if status != 200:
                problems.append(f"broken link: {href} (HTTP {status})")
            elif parts.fragment and urllib.parse.unquote(parts.fragment) not in ids:
                problems.append(f"broken anchor: {href} (no id {parts.fragment!r} on {parts.path})")
        return problems


def leak_problems(facts: Facts, secrets: dict[str, str]) -> list[str]:
    from kit import leaks

    return leaks.find_leaks(facts["allText"], secrets)


def notebook_download_problems(facts: Facts, name: str) -> list[str]:
    """The exercise page offers `name`.ipynb: a notebook with the stubs, as students get it."""
    links = [h for h in facts["downloads"] if urllib.parse.urlsplit(h).path.endswith(f"/{name}.ipynb")]
    if not links:
        return [f"no download of {name}.ipynb among {facts['downloads']}"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(links[0], timeout=30) as resp:
            nb = json.loads(resp.read())
    except (urllib.error.URLError, ValueError) as exc:
        return [f"the download {links[0]} is not a notebook: {exc}"]
    code = "\n".join("".join(c["source"]) for c in nb.get("cells", []) if c.get("cell_type") == "code")
    if "raise NotImplementedError()" not in code:
        return [f"the downloaded {name}.ipynb has no student stubs"]
    return []


def fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as resp:
        return resp.read()


def chapter_download_problems(facts: Facts, name: str) -> list[str]:
    """A chapter page offers the chapter as a notebook (.ipynb, with code cells and the
    build's outputs) and its exercise notebook (with the stubs)."""
    problems = []
    chapter = [h for h in facts["downloads"] if urllib.parse.urlsplit(h).path.endswith(f"/_notebooks/{name}.ipynb")]
    exercise = [h for h in facts["downloads"]
                if urllib.parse.urlsplit(h).path.endswith(f"/exercises/{name}/{name}.ipynb")]
    for links, what in ((chapter, "the chapter's notebook"), (exercise, "the exercise's notebook")):
        if not links:
            problems.append(f"no download of {what} among {facts['downloads']}")
            continue
        try:
            nb = json.loads(fetch(links[0]))
        except (urllib.error.URLError, ValueError) as exc:
            problems.append(f"{what} ({links[0]}) is not a notebook: {exc}")
            continue
        code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
        if not code:
            problems.append(f"{what} has no code cell")
        elif what == "the chapter's notebook" and not any(c.get("outputs") for c in code):
            problems.append(f"{what} has no output: not the executed chapter")
        elif what == "the exercise's notebook" and \
                not any("raise NotImplementedError()" in "".join(c["source"]) for c in code):
            problems.append(f"{what} has no student stubs")
    return problems


def search_results(browser, base: str, query: str, screenshot: Path | None = None) -> tuple[list[str], list[str]]:
    """(titles of the results of Sphinx's search page for `query`, problems while loading)."""
    problems: list[str] = []
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else (problems.append(f"request outside the site: {route.request.url}"), route.abort()))
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    try:
        page.goto(base + "search.html?" + urllib.parse.urlencode({"q": query}), wait_until="load")
        # searchtools.js reports "Search finished, found N page(s)..." (or "did not match").
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results p.search-summary, "
            "#search-results .search-summary'); return s && s.textContent.trim().length > 0; }",
            timeout=20000)
        titles = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.textContent)")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return titles, problems


def screenshot_problems(path: Path) -> list[str]:
    """A screenshot is a PNG at least one viewport in size."""
    if not path.is_file():
        return [f"no screenshot at {path}"]
    head = path.read_bytes()[:24]
    if len(head) < 24 or not head.startswith(b"\x89PNG\r\n\x1a\n"):
        return [f"{path} is not a PNG"]
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if width < VIEWPORT["width"] or height < VIEWPORT["height"]:
        return [f"{path} is {width}x{height}, smaller than the window"]
    return []
