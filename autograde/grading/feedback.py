"""Feedback that never shows a hidden test and runs nothing a submission put in it.

Stock `nbgrader generate_feedback` renders the autograded notebook, in which the hidden
tests were put back: their source, and the traceback lines that quote it, reach the
student (nbgrader issues #917, #1363). `ScrubHiddenTests` runs before the HTML export
and, in every cell that held a hidden region, removes that region and reduces an error
to its message (our checks' messages name the case and the error, never a hidden
case's reference values); a failed check anywhere is also shown as its message alone.

`SanitizeFeedback` then makes the notebook inert: a student's markdown is rendered and
cut down to an allow-list of tags and attributes (anything else shows as text), outputs
keep plain text, streams, errors and real PNG/JPEG images only, metadata keeps
nbgrader's plain values only. The page's template (templates/rnn-feedback) puts a
Content-Security-Policy with `script-src 'none'` first in <head>, so even something the
sanitiser missed would not run. MathJax is not loaded (a CDN script, refused by that
policy anyway): formulas show as the TeX the notebook holds.
"""
from __future__ import annotations

import base64
import binascii
import functools
import html as _html
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def strip_hidden(source: str) -> tuple[str, bool]:
    """Return `source` without its hidden-test regions, and whether it had any."""
    kept, inside, found = [], False, False
    for line in source.split("\n"):
        if BEGIN in line:
            inside, found = True, True
        elif END in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), found


class ScrubHiddenTests(Preprocessor):
    enabled = Bool(True).tag(config=True)  # nbconvert skips a preprocessor that is not enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source, had_hidden = strip_hidden(cell.source)
        for output in cell.get("outputs", []):
            # A failed check's message says all; its traceback shows only our internals.
            if output.output_type == "error" and (had_hidden or output.ename == "CheckFailed"):
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


# ---------------------------------------------------------------------------------------
# Inert output. Everything in an autograded notebook may come from a student: markdown
# cells, outputs, metadata, image payloads. `SanitizeFeedback` runs last before the HTML
# export and leaves only what cannot run in a browser; the feedback template adds a
# Content-Security-Policy that forbids every script, so a missed case still runs nothing.

# What a feedback page may load: its own inline styles, images carried in the page as
# data, nothing else; no script at all (math is MathML, drawn by the browser itself).
FEEDBACK_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "
                "connect-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                "media-src 'none'; base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{FEEDBACK_CSP}">'
# nbgrader's feedback preprocessors, with hidden tests scrubbed and the submission made inert.
PREPROCESSORS = ["nbgrader.preprocessors.GetGrades", "autograde.grading.feedback.ScrubHiddenTests",
                 "autograde.grading.feedback.SanitizeFeedback", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
# nbgrader's feedback template with that policy first in <head> and no MathJax.
TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME, TEMPLATE_FILE = "rnn-feedback", "feedback-csp.html.j2"

_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
         "table", "tbody", "td", "th", "thead", "tr", "ul"}
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]+$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# Besides text/plain, the mime types a feedback page shows: raster images, as data.
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a" and name == "href":
        scheme = _SCHEME.match(value)
        return scheme is None or scheme.group(1).lower() in ("http", "https", "mailto")
    if tag == "img" and name == "src":
        return bool(_DATA_IMAGE.match(value))
    if tag == "img" and name in ("alt", "width", "height"):
        return name == "alt" or value.isdigit()
    if tag in ("td", "th") and name == "align":
        return value in ("left", "right", "center")
    if name in ("title",):
        return True
    # Classes for syntax highlighting, ids for a heading's anchor: inert without scripts.
    if name == "id":
        return len(value) <= 200
    return name == "class" and bool(re.fullmatch(r"[A-Za-z0-9_ .-]{0,200}", value))


# What nbconvert's HTML exporter writes as the alt text of an image that has none.
NO_ALT = "No description has been provided for this image"


@functools.lru_cache(maxsize=1)
def _cleaner():
    """bleach's cleaner with our allow-list, and an image without alt text given NO_ALT
    (as nbconvert's exporter does in its last pass, which the page maker skips)."""
    from bleach.html5lib_shim import Filter
    from bleach.sanitizer import Cleaner

    class AltText(Filter):
        def __iter__(self):
            for token in super().__iter__():
                if token.get("name") == "img" and token["type"] in ("StartTag", "EmptyTag") \
                        and not any(name == "alt" for _, name in token["data"]):
                    token["data"][(None, "alt")] = NO_ALT
                yield token

    return Cleaner(tags=_TAGS, attributes=_allowed_attribute, protocols=["http", "https", "mailto", "data"],
                   strip=False, strip_comments=True, filters=[AltText])


def clean_html(text: str) -> str:
    """`text` with only the tags and attributes of an allow-list; every other tag is shown
    as text (escaped), comments are dropped, links keep http(s)/mailto/relative targets
    and images only PNG or JPEG data, each with alt text."""
    return _cleaner().clean(text)


# Math is typeset without any script: TeX becomes MathML here (latex2mathml), which the
# browser draws itself, then passes an allow-list of its own (latex2mathml copies
# \text{...} through unescaped, so its output is never trusted as it is).
_MATH_TAGS = {"math", "mrow", "mi", "mo", "mn", "ms", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot",
              "mtext", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mspace", "mstyle", "mpadded",
              "mphantom", "menclose", "merror"}
_MATH_ATTRIBUTES = {"math": ["display", "xmlns"], "mo": ["stretchy", "fence", "separator", "lspace", "rspace",
                                                         "form", "movablelimits"],
                    "mspace": ["width", "linebreak"], "mstyle": ["displaystyle", "scriptlevel"],
                    "mtable": ["columnalign", "rowspacing", "columnspacing", "displaystyle"],
                    "mtd": ["columnalign"], "mfrac": ["linethickness"], "*": ["mathvariant"]}
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\$)", re.S)


@functools.lru_cache(maxsize=4096)  # the instructor's formulas repeat in every student's page
def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML for `tex`, allow-listed; the TeX as escaped text if it cannot be converted."""
    import bleach
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any TeX latex2mathml cannot read is shown as written
        wrap = "$$" if display else "$"
        return f"<code>{_html.escape(wrap + tex + wrap)}</code>"
    return bleach.clean(mathml, tags=_MATH_TAGS, attributes=_MATH_ATTRIBUTES, strip=False, strip_comments=True)


# What is typeset, at most (issue 23, item 7): converting and cleaning MathML grows faster
# than the formula, so a submission of huge formulas would hold up its feedback step. A
# formula over the cap, or past a cell's or the notebook's budget, shows as its TeX, as
# text; a cell over MAX_MARKDOWN is shown as plain text, not rendered.
MAX_FORMULA = 2_000  # characters of TeX in one formula
MAX_TEX_PER_CELL = 8_000
MAX_TEX_PER_NOTEBOOK = 40_000
MAX_MARKDOWN = 100_000  # characters of one markdown cell
NOT_TYPESET = ("[Some formulas of this notebook are shown as TeX, not typeset: the feedback page "
               "typesets at most {} characters of TeX per formula, {} per cell and {} in all.]")


@functools.lru_cache(maxsize=2048)  # the instructor's markdown cells repeat in every page
def _rendered(text: str) -> str:
    """Markdown (its math already held out) as allow-listed HTML."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return clean_html(markdown2html_mistune(text))


def safe_markdown(source: str, budget: list[int] | None = None) -> str:
    """Markdown whose rendering by the feedback template is the allow-listed HTML of
    `source`: rendered once here (as nbconvert would), cleaned, with its math typeset as
    MathML, and kept on one line inside a <div> so that the template's own markdown pass
    leaves it as it is. `budget`: [characters of TeX the notebook may still typeset,
    formulas left as text so far], shared by its cells."""

    budget = budget if budget is not None else [MAX_TEX_PER_NOTEBOOK, 0]
    source = str(source)
    if len(source) > MAX_MARKDOWN:
        return _one_html_line(f"<pre>{_html.escape(source)}</pre>")
    maths: list[str] = []
    cell = [MAX_TEX_PER_CELL]

    def hold(match: re.Match) -> str:
        display = match.group(1) is not None
        tex = match.group(1) if display else match.group(2)
        if len(tex) > MAX_FORMULA or len(tex) > cell[0] or len(tex) > budget[0]:
            wrap = "$$" if display else "$"
            maths.append(f"<code>{_html.escape(wrap + tex + wrap)}</code>")
            budget[1] += 1
        else:
            cell[0] -= len(tex)
            budget[0] -= len(tex)
            maths.append(tex_to_mathml(tex, display))
        return f"MATHPLACEHOLDER{len(maths) - 1}X"

    try:
        rendered = _rendered(_MATH.sub(hold, str(source)))
        rendered = re.sub(r"MATHPLACEHOLDER(\d+)X", lambda m: maths[int(m.group(1))], rendered)
    except Exception:  # e.g. a missing attachment: show the text as it was written
        rendered = f"<pre>{_html.escape(str(source))}</pre>"
    return _one_html_line(rendered)


def _one_html_line(html: str) -> str:
    """`html` as one line in a <div>: a markdown pass keeps such a block as it is."""
    return '<div class="student-markdown">' + html.replace("\r", "").replace("\n", "&#10;") + "</div>"


def safe_image(mime: str, data) -> str | None:
    """Canonical base64 of a real PNG or JPEG, or None for anything else."""
    if isinstance(data, list):
        data = "".join(str(x) for x in data)
    if not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", data), validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw).decode("ascii") if raw.startswith(_MAGIC[mime]) else None


def _text(value) -> str:
    return "".join(str(x) for x in value) if isinstance(value, list) else str(value)


def safe_output(output) -> dict | None:
    """An output a page can show without running anything; None to drop it."""
    from nbformat import NotebookNode

    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return NotebookNode(output_type="stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        tb = output.get("traceback")
        return NotebookNode(output_type="error", ename=_text(output.get("ename", "")),
                            evalue=_text(output.get("evalue", "")),
                            traceback=[_text(t) for t in tb] if isinstance(tb, list) else [])
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept, metadata, dropped = {}, {}, []
    for mime, value in data.items():
        if mime == "text/plain":
            kept[mime] = _text(value)
        elif mime in _MAGIC and (image := safe_image(mime, value)) is not None:
            kept[mime] = image
            meta = (output.get("metadata") or {}).get(mime)
            size = {k: int(v) for k, v in (meta.items() if isinstance(meta, dict) else ())
                    if k in ("width", "height") and isinstance(v, int) and not isinstance(v, bool)}
            alt = meta.get("alt") if isinstance(meta, dict) else None
            size["alt"] = alt if isinstance(alt, str) and 0 < len(alt) <= 1000 else NO_ALT  # escaped by the template
            metadata[mime] = size
        else:
            dropped.append(str(mime))
    if dropped and "text/plain" not in kept:
        kept["text/plain"] = f"[output not shown in feedback: {', '.join(sorted(dropped))}]"
    if not kept:
        return None
    out = NotebookNode(output_type=kind, data=NotebookNode(kept), metadata=NotebookNode(metadata))
    if kind == "execute_result":
        count = output.get("execution_count")
        out.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
    return out


def _safe_nbgrader(meta) -> dict:
    """The nbgrader metadata the feedback template reads, each value of a plain type."""
    if not isinstance(meta, dict):
        return {}
    safe = {}
    for key in ("grade", "solution", "locked", "task"):
        if key in meta:
            safe[key] = bool(meta[key])
    for key in ("points", "score"):
        if isinstance(meta.get(key), (int, float)) and not isinstance(meta.get(key), bool):
            safe[key] = float(meta[key])
    if isinstance(meta.get("grade_id"), str) and _SAFE_ID.match(meta["grade_id"]):
        safe["grade_id"] = meta["grade_id"]
    if meta.get("comment"):
        safe["comment"] = _html.escape(_text(meta["comment"]))
    if (safe.get("grade") or safe.get("solution") or safe.get("task")) and "grade_id" not in safe:
        safe = {k: v for k, v in safe.items() if k not in ("grade", "solution", "task")}
    return safe


class SanitizeFeedback(Preprocessor):
    """Make the notebook inert before the HTML export: markdown cells become allow-listed
    HTML, outputs keep plain text, tracebacks, streams and real PNG/JPEG images only,
    metadata keeps nbgrader's plain values only, raw cells show as text."""
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        from nbformat import NotebookNode

        resources["feedback_csp"] = FEEDBACK_CSP
        resources["tex_budget"] = [MAX_TEX_PER_NOTEBOOK, 0]
        nb.metadata = NotebookNode(kernelspec=NotebookNode(name="python3", display_name="Python 3",
                                                           language="python"),
                                   language_info=NotebookNode(name="python"))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        from nbformat import NotebookNode

        if not (isinstance(cell.get("id"), str) and _SAFE_ID.match(cell["id"])):
            cell["id"] = f"cell-{index}"
        nbgrader = _safe_nbgrader(cell.get("metadata", {}).get("nbgrader"))
        cell.metadata = NotebookNode(nbgrader=NotebookNode(nbgrader)) if nbgrader else NotebookNode()
        cell.pop("attachments", None)
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            budget = resources.setdefault("tex_budget", [MAX_TEX_PER_NOTEBOOK, 0])
            left_as_text = budget[1]
            cell.source = safe_markdown(source, budget)
            if budget[1] > left_as_text and not resources.get("tex_noted"):
                resources["tex_noted"] = True
                note = NOT_TYPESET.format(MAX_FORMULA, MAX_TEX_PER_CELL, MAX_TEX_PER_NOTEBOOK)
                cell.source += _one_html_line(f"<p><em>{_html.escape(note)}</em></p>")
        elif cell.get("cell_type") == "code":
            cell.source = source
            cell.outputs = [o for o in (safe_output(o) for o in cell.get("outputs", [])
                                        if isinstance(o, dict)) if o is not None]
            count = cell.get("execution_count")
            cell.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
        else:  # raw (or unknown): its text, escaped, as a markdown cell
            cell.cell_type = "markdown"
            cell.source = _one_html_line(f"<pre>{_html.escape(source)}</pre>")
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        return cell, resources
