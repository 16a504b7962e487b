"""Make what students get from the sources: exercise notebooks, their release, the mistakes page."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from . import intro
from .coursedir import CourseDir
from .errors import CourseError
from .gradebook import RELEASE_CONFIG, nbgrader_here


def find_root(start: Path | None = None) -> Path:
    """The checkout that holds `solutions/` and `_toc.yml`, from `start` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "solutions").is_dir() and (folder / "_toc.yml").is_file():
            return folder
    raise CourseError(f"no course checkout (a folder with solutions/ and _toc.yml) at or above {here}")


def assignment_sources(root: Path) -> dict[str, Path]:
    """Assignment name -> its jupytext source, `solutions/<name>/<name>.md`."""
    found = {}
    for folder in sorted((root / "solutions").iterdir()):
        src = folder / f"{folder.name}.md"
        if folder.is_dir() and src.is_file():
            found[folder.name] = src
    return found


# Where each exercise's intro says how to install the checks: the release writes the
# paragraph and the install cell from one place (install_text, install_cell), with the
# book's published address from _config.yml (html.baseurl), so no notebook carries a
# link that works only inside the book's folder.
INSTALL_MARK = "<!-- install: the release writes how to install the checks here -->"


def book_url(root: Path) -> str:
    """The book's published address (`html: baseurl:` in _config.yml), or "" when the
    course has none yet."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return str((config.get("html") or {}).get("baseurl") or "").strip().rstrip("/")


def install_text(url: str, whl: str) -> str:
    """The intro's paragraph on installing the checks: the wheel's address in the book
    (a link whose text is the address itself), what to do when it is unreachable, and
    plain words where the course has no published book yet."""
    from .wheel import LOWEST_PYTHON

    needs = (f"It needs Python {LOWEST_PYTHON} or newer and numpy 2 (pip installs numpy if it is missing), "
             f"and it holds the checks and the public cases, never the answers.")
    menu = "its download menu, at the top of the page, offers *checks .whl*"
    after = ("If the import cell had already failed, restart the kernel after installing. When your "
             "notebook is graded, the install cell does nothing and prints nothing: the grader has its "
             "own copy of the checks.")
    if url:
        address = f"{url}/_static/{whl}"
        return (f"**Install the checks first.** The first code cell below installs the course's checks, "
                f"one file from the course's book:\n[{address}]({address})\n"
                f"Run it once, in the Python you use for this course. {needs} If that address cannot be "
                f"reached, open the book at [{url}/]({url}/), download `{whl}` from this exercise's page "
                f"({menu}), put it in this notebook's folder and run `%pip install {whl}` instead. {after}")
    return (f"**Install the checks first.** The course's checks come as one file, `{whl}`. {needs} This "
            f"copy of the course does not record where its book is published, so this notebook cannot "
            f"link to the file: download it from this exercise's page in the course's book ({menu}), or "
            f"ask your instructor for the book's address or for the file. Put it in this notebook's folder "
            f"and run the first code cell below once. {after}")


def install_cell(url: str, whl: str) -> str:
    """The install cell's code (an ordinary cell before the imports)."""
    if url:
        return ("# Install the course's checks, once. If the address cannot be reached,\n"
                "# see \"Install the checks first\" above. At grading this cell does nothing.\n"
                f"%pip install {url}/_static/{whl}")
    return ("# Install the course's checks, once: the file must be in this notebook's\n"
            "# folder (see \"Install the checks first\" above). At grading this cell\n"
            "# does nothing.\n"
            f"%pip install {whl}")


def make_notebook(source: Path, target: Path | None = None, url: str | None = None) -> Path:
    """Write the .ipynb that nbgrader reads from the reviewable jupytext source, with the
    install paragraph and cell written where the source marks them (INSTALL_MARK), and the
    intro's standard paragraphs where it marks them (`<!-- course: NAME -->`, grading/intro.py).
    `url`: the book's published address (default: _config.yml's, see book_url)."""
    import jupytext

    from . import wheel

    try:
        nb = jupytext.read(source)
    except Exception as exc:
        raise CourseError(f"{source}: cannot be read as a jupytext notebook: {exc}") from exc
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and intro.MARK.search(cell.source):
            cell.source = intro.fill(cell.source, source.stem)
    marked = [c for c in nb.cells if c.cell_type == "markdown" and INSTALL_MARK in c.source]
    if marked:
        url = book_url(find_root(source.parent)) if url is None else url.rstrip("/")
        marked[0].source = marked[0].source.replace(INSTALL_MARK, install_text(url, wheel.wheel_name()))
        at = next((i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "imports"),
                  None)
        if at is None:
            raise CourseError(f"{source}: the install cell goes before the cell whose grade_id is 'imports': none")
        nb.cells.insert(at, nbformat.v4.new_code_cell(install_cell(url, wheel.wheel_name())))
    for i, cell in enumerate(nb.cells):
        # Stable ids (jupytext makes random ones), so regenerating changes nothing.
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i}"
    target = target or source.with_suffix(".ipynb")
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


def release(root: Path, assignments: list[str] | None = None, out_dir: Path | None = None,
            url: str | None = None) -> list[Path]:
    """Make the student notebooks of `assignments` (all by default) with nbgrader.

    The released notebooks go to `out_dir` (default `<root>/exercises`), laid out as
    `<assignment>/<assignment>.ipynb`. Returns their paths. `url`: the book's address
    the notebooks link to (default: _config.yml's html.baseurl); with another address
    than the configured one, the checkout's solutions/*.ipynb are left as they are.
    """
    sources = assignment_sources(root)
    names = assignments or list(sources)
    for name in names:
        if name not in sources:
            raise CourseError(f"no assignment {name!r}: expected solutions/{name}/{name}.md")
        if url is None:
            make_notebook(sources[name])
    out_dir = (out_dir or root / "exercises").resolve()
    written = []
    with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp:
        # A course folder of our own, so nbgrader's gradebook and log stay out of the checkout.
        course = Path(tmp)
        for name in names:
            dest = course / "source" / name
            dest.mkdir(parents=True)
            if url is None:
                shutil.copy2(root / "solutions" / name / f"{name}.ipynb", dest)
            else:
                make_notebook(sources[name], dest / f"{name}.ipynb", url=url)
            # nbgrader's generate_assignment, run in this process (as grading does): one
            # import of nbgrader for all assignments, not an interpreter per assignment
            done = nbgrader_here("GenerateAssignment", name, course, CourseDir(course).gradebook,
                                 settings=RELEASE_CONFIG)
            if not done["success"]:
                raise CourseError(f"nbgrader could not release {name} (generate_assignment):\n"
                                  f"{(done.get('log') or '')[-3000:]}\n{(done.get('error') or '')[-3000:]}")
            released = course / "release" / name
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(released, target)
            written += sorted(target.glob("*.ipynb"))
    return written


def mistakes_page(root: Path) -> str:
    """The book's "Common mistakes" page, made from the catalogue of known mistakes."""
    import numpy as np

    from .. import chapters
    from ..kernel import cases
    from ..kernel.compare import compare_output, format_pair

    from .mathtext import typeset

    lines = ["# Common mistakes", "",
             "These are the mistakes the grader recognises. When a check in an exercise fails with",
             "*This looks like a known mistake*, it names one of them, with the explanation below. Each",
             "example takes the first public case where the mistake shows and gives, at the first index",
             "where they differ, the right value (what PyTorch computes) and the mistake's value.", "",
             "This page is generated from the grader's catalogue (`autograde`), so the two always agree.",
             "One section per chapter, one heading per graded function (linked to its exercise); open a",
             "mistake to read its explanation and an example.", ""]
    titles = {}
    for assignment in chapters.assignments():
        chapter = root / "book" / f"{assignment}.md"
        titles[assignment] = next((ln[2:].strip() for ln in chapter.read_text(encoding="utf-8").splitlines()
                                   if ln.startswith("# ")), assignment) if chapter.exists() else assignment
    lines += [f"- [{titles[a]}](#mistakes-{a}): "
              + ", ".join(f"`{fn.name}`" for fn in fns if chapters.mistakes_for(fn.name))
              for a, fns in chapters.assignments().items()] + [""]
    for assignment, functions in chapters.assignments().items():
        exercise = f"../exercises/{assignment}/{assignment}.ipynb"
        number = int(assignment[:2])
        lines += [f"(mistakes-{assignment})=", f"## {titles[assignment]}", "",
                  f"Exercise {number}, [`{assignment}`]({exercise}).", ""]
        for fn in functions:
            known = chapters.mistakes_for(fn.name)
            if not known:
                continue
            lines += [f"### `{fn.name}`", "",
                      f"Graded in [exercise {number}]({exercise}); {len(known)} known mistake"
                      f"{'s' if len(known) != 1 else ''}.", ""]
            for m in known:
                # Capitalise a leading English word, never an identifier (b_hh, h_n, bias=False).
                first = m.title.split()[0]
                title = m.title[0].upper() + m.title[1:] if first.isalpha() and first.islower() else m.title
                # Collapsed: the title shows, the explanation and the example open on a click.
                lines += [f":::{{admonition}} {title}", ":class: dropdown", "", typeset(m.explanation), ""]
                example = None
                if fn.judge is not None:  # judged, not compared: say what the judge found
                    case = cases.public_cases(fn.name)[0]
                    wrong = (case.mistakes or {}).get(m.key)
                    verdict = fn.spec().compare(case.inputs, case.expected, wrong[0]) if wrong else None
                    if verdict is not None:
                        lines += [f"Example, public case {case.index} ({case.describe_inputs()}): "
                                  f"{verdict.message}.", ""]
                    lines += [":::", ""]
                    continue
                for case in cases.public_cases(fn.name):
                    wrong = (case.mistakes or {}).get(m.key)
                    for name, right, got in zip(fn.outputs, case.expected, wrong or ()):
                        if example is None and compare_output(name, right, got) is not None:
                            example = case, name, np.asarray(right), np.asarray(got)
                if example is None:
                    lines += [":::", ""]
                    continue
                case, name, right, got = example
                where = f"Example, public case {case.index} ({case.describe_inputs()}): "
                if right.dtype.kind in "iu" and right.ndim == 1:  # e.g. a shape; [] stands for None
                    lines += [where + f"`{name}` should be {right.tolist()}; with this mistake it is "
                                      f"{got.tolist()}.", ""]
                elif right.shape != got.shape:
                    lines += [where + f"`{name}` should have shape {right.shape}; with this mistake it has "
                                      f"shape {got.shape}.", ""]
                elif right.ndim == 0:
                    lines += [where + f"`{name}` should be {right.item():g}; with this mistake it is {got.item():g}.", ""]
                else:
                    first = compare_output(name, right, got).first_index
                    if first is None:  # integer arrays (token ids) are compared exactly, without one
                        first = tuple(int(i) for i in np.argwhere(right != got)[0])
                    want, have = format_pair(right[first], got[first])  # enough digits to differ
                    lines += [where + f"`{name}{list(first)}` should be {want}; with this mistake it "
                                      f"is {have} (largest difference {np.abs(right - got).max():.3g}).", ""]
                lines += [":::", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_mistakes_page(root: Path) -> Path:
    path = root / "book" / "common-mistakes.md"
    text = mistakes_page(root)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
