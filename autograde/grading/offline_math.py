"""MathJax for the feedback HTML without the internet.

nbconvert's HTML template (which `nbgrader generate_feedback` uses) loads MathJax 2 from
cdnjs, so a student reading their feedback offline, or under a Content-Security-Policy
that allows no remote script, sees raw LaTeX. `localize` replaces that script and its
`text/x-mathjax-config` block with MathJax 3 from the npm package the book already
installs (node_modules/mathjax, pinned in package.json), inlined in the page, and
drops the page's other remote script (require.js, for widgets a static page has no use
for):

    html, script_hashes = offline_math.localize(html)

The page then stands alone (a feedback file is handed to one student, without a
folder around it). `tex-svg-full.js` is used because it needs nothing else at run
time: every TeX extension is built in (no autoloading from a path) and SVG output
needs no font files. It adds about 2.3 MB to each page.

For a Content-Security-Policy, `script_hashes` are the `'sha256-...'` sources of the
two inline scripts (the configuration and MathJax itself), to add to `script-src`.
MathJax writes a <style> element and style attributes for its SVG output, so
`style-src` must allow 'unsafe-inline' (nbconvert's pages need that already).
"""
from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

MATHJAX_ES5 = Path(__file__).resolve().parents[2] / "node_modules" / "mathjax" / "es5"
COMPONENT = "tex-svg-full.js"

# The delimiters of nbconvert's MathJax 2 configuration, in MathJax 3's form; no menu,
# and nothing to load (the full component has it all).
CONFIG = r"""window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  svg: {fontCache: 'global'},
  options: {enableMenu: false},
  loader: {load: []}
};"""

_REMOTE_MATHJAX = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"'][^\"']*mathjax[^\"']*[\"'][^>]*>\s*</script>",
                             re.IGNORECASE)
# Any other script from elsewhere: nbconvert's page also asks cdnjs for require.js (for
# interactive widgets, which a static feedback page has no use for).
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']\s*(?:https?:)?//[^\"']*[\"'][^>]*>\s*</script>",
                            re.IGNORECASE)
_V2_CONFIG = re.compile(r"<script\b[^>]*type\s*=\s*[\"']text/x-mathjax-config[\"'][^>]*>.*?</script>",
                        re.IGNORECASE | re.DOTALL)


class MathJaxMissing(FileNotFoundError):
    pass


@lru_cache(maxsize=None)
def _component(folder: Path) -> str:
    path = folder / COMPONENT
    if not path.is_file():
        raise MathJaxMissing(f"MathJax is not installed ({path} is missing): run `make setup` (npm ci)")
    # Inside an inline <script>, "</script" would end it early.
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


def script_hash(source: str) -> str:
    """The CSP source that allows an inline script with exactly this text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def remote_scripts(html: str) -> list[str]:
    """The <script src=...> tags of `html` that load from another site."""
    return _REMOTE_SCRIPT.findall(html)


def localize(html: str, mathjax_dir: Path = MATHJAX_ES5) -> tuple[str, list[str]]:
    """`html` with every MathJax script from elsewhere (and MathJax 2's configuration)
    replaced by MathJax 3 inlined from `mathjax_dir`, and every other script from
    elsewhere removed; and the CSP hashes of the two inline scripts. A page that loaded
    no MathJax gets none (no hashes)."""
    had_mathjax = bool(_REMOTE_MATHJAX.search(html))
    html = _REMOTE_SCRIPT.sub("", _V2_CONFIG.sub("", _REMOTE_MATHJAX.sub("", html)))
    if not had_mathjax:
        return html, []
    component = _component(Path(mathjax_dir))
    scripts = f"<script>{CONFIG}</script>\n<script>{component}</script>\n"
    at = html.lower().find("</head>")
    html = html[:at] + scripts + html[at:] if at >= 0 else scripts + html
    return html, [script_hash(CONFIG), script_hash(component)]


def localize_file(path: Path, mathjax_dir: Path = MATHJAX_ES5) -> list[str]:
    """Rewrite one HTML file in place; return the CSP hashes of its inline scripts."""
    original = Path(path).read_text(encoding="utf-8")
    html, hashes = localize(original, mathjax_dir)
    if html != original:
        Path(path).write_text(html, encoding="utf-8")
    return hashes
