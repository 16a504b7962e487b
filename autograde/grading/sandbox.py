"""Run a command in isolation: bubblewrap namespaces, an unprivileged uid, rlimits.

What the sandboxed process sees: the system's /usr and /etc read-only; the base Python
and the *sandbox environment* read-only (a virtual environment with numpy, matplotlib
and IPython only: no PyTorch, no course package); the student-side part of the course
package (`autograde.kernel`) and the notebook runner, staged read-only at /opt/rnn-course;
an empty, size-capped /tmp of its own, and one writable, size-capped folder (the
submission's work folder, private to its uid). No network (a network namespace with
only loopback), no other process (a pid namespace), no capabilities. It does not see
the course folder, the gradebook, `solutions/`, the references, other submissions or
anyone's home.

Limits (setrlimit, inherited by every process the submission starts): CPU seconds,
address space, number of processes (per uid: each parallel slot has its own uid),
file size and open files; wall time is enforced by the caller, output size by the
runner inside. Each parallel slot runs as a uid of its own (`UidClaim`).
"""
from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import autograde

SITE = Path("/opt/rnn-course")  # where the staged kernel package and runner appear inside
RUNNER = "rnn_runner.py"  # the runner's name there (autograde/runner.py, staged alone)
SCRATCH_ROOT = Path(os.environ.get("RNN_COURSE_SCRATCH", "/tmp/rnn-course-scratch"))

UID_RANGE = range(61000, 62000)  # uids a sandbox may run as; each run claims its own
UID_LOCKS = Path(os.environ.get("RNN_COURSE_UID_LOCKS", "/tmp/rnn-course-uids"))


class UidClaim:
    """Uids for the parallel slots of one grading run, held with file locks for as long
    as the run lasts, so that two runs on one machine never share a uid (and with it a
    process limit). Released when the run ends, also when it is killed."""

    def __init__(self, n: int):
        self.n, self.uids, self._files = n, [], []

    def __enter__(self) -> list[int]:
        import fcntl

        UID_LOCKS.mkdir(parents=True, exist_ok=True)
        for uid in UID_RANGE:
            if len(self.uids) == self.n:
                break
            f = open(UID_LOCKS / f"{uid}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            self._files.append(f)
            self.uids.append(uid)
        if len(self.uids) < self.n:
            self.__exit__()
            raise SandboxUnavailable(f"no free sandbox uid in {UID_RANGE.start}-{UID_RANGE.stop - 1}")
        return self.uids

    def __exit__(self, *exc) -> None:
        for f in self._files:
            f.close()  # closing releases the lock
        self._files, self.uids = [], []


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 300
    wall_seconds: int = 240
    memory_bytes: int = 6 << 30  # address space per process; torch alone maps ~2 GiB
    processes: int = 256  # tasks (threads count) of the slot's uid
    file_bytes: int = 64 << 20
    open_files: int = 512
    output_bytes: int = 256 << 10  # per cell, enforced by the runner
    tmp_bytes: int = 256 << 20  # the sandbox's own /tmp, a size-capped tmpfs
    work_bytes: int = 256 << 20  # the work folder, a size-capped tmpfs too (as root)
    cell_timeout: int = 60
    notebook_bytes: int = 32 << 20  # the executed notebook read back


class SandboxUnavailable(RuntimeError):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _package_dir() -> Path:
    return Path(autograde.__file__).resolve().parent


def sandbox_python(torch: bool = False) -> Path:
    """The Python of the sandbox environment (`make setup` makes it: numpy, matplotlib,
    IPython; never PyTorch). With `torch`, for the one assignment
    that declares it (`autograde.chapters.sandbox_imports`), the second environment,
    .venv/sandbox-torch: the same plus PyTorch, still no course package."""
    if torch:
        configured = os.environ.get("RNN_COURSE_SANDBOX_TORCH_PYTHON")
        path = Path(configured) if configured else Path(sys.prefix) / "sandbox-torch" / "bin" / "python"
        if not path.exists():
            raise SandboxUnavailable(f"the torch sandbox environment is missing ({path}); `make setup` "
                                     f"makes it from requirements-sandbox-torch.txt")
        return path
    configured = os.environ.get("RNN_COURSE_SANDBOX_PYTHON")
    path = Path(configured) if configured else Path(sys.prefix) / "sandbox" / "bin" / "python"
    if not path.exists():
        raise SandboxUnavailable(f"the sandbox environment is missing ({path}); `make setup` makes it "
                                 f"(or set RNN_COURSE_SANDBOX_PYTHON to a Python with numpy, matplotlib "
                                 f"and IPython but no PyTorch)")
    return path


def _env_prefix(python: Path) -> Path:
    """The virtual environment (or installation) that `python` belongs to."""
    return python.parent.parent.absolute()


def _site_files() -> list[tuple[Path, str]]:
    """What the sandbox may import of the course, as (source, place under the staged
    site): the package's `__init__` and its student side (`autograde/kernel`), and the
    notebook runner. The chapters (references, case makers, mistakes) and the grading
    code stay out."""
    package = _package_dir()
    kernel = sorted(p for p in (package / "kernel").rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return [(package / "__init__.py", "autograde/__init__.py"),
            *((p, p.relative_to(package.parent).as_posix()) for p in kernel),
            (package / "runner.py", RUNNER)]


def stage_site(dest: Path) -> Path:
    """Copy `_site_files` into `dest`, compiled and read-only."""
    for source, place in _site_files():
        (dest / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / place)
    import compileall  # bytecode made once per run, not by every kernel (the copy is read-only)

    compileall.compile_dir(dest, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    for path in [dest, *dest.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return dest


def site_digest() -> str:
    """A digest of what `stage_site` stages: two machines grade alike only if theirs
    agree (a cluster worker checks it against the coordinator's)."""
    import hashlib

    h = hashlib.sha256()
    for source, place in _site_files():
        h.update(place.encode() + b"\0" + source.read_bytes() + b"\0")
    return h.hexdigest()


def readonly_paths(python: Path) -> list[Path]:
    """What the sandbox may read beyond /usr and /etc: the base Python and the sandbox
    environment (never the course's own environment, which holds PyTorch)."""
    paths = {Path(sys.base_prefix).resolve(), _env_prefix(python)}
    return sorted(paths, key=lambda p: len(p.parts))


def rlimit_args(limits: Limits) -> list[str]:
    return ["prlimit", f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
            f"--nofile={limits.open_files}", "--core=0", "--"]


def _mount(args: list[str], made: set[Path], path: Path, how: str, target: Path | None = None) -> None:
    """Bind `path`, first making each missing ancestor traversable (bwrap makes them 0700)."""
    target = target or path
    for parent in reversed(target.parents):
        if parent != Path("/") and parent not in made:
            args += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    args += [how, str(path), str(target)]
    made.add(target)


def command(argv: list[str], workdir: Path, uid: int, limits: Limits, env: dict[str, str],
            sandboxed: bool = True, site: Path | None = None, python: Path | None = None) -> list[str]:
    """The full command line that runs `argv` in `workdir` under the sandbox.

    As root: bubblewrap sets up the namespaces and mounts, then `setpriv` drops to `uid`,
    which this slot alone uses (so the process limit counts only this submission) and `prlimit`
    sets the limits. As another user: the same, inside an unprivileged user namespace.
    Without `sandboxed` (the instructor's explicit choice where bubblewrap is missing),
    only the limits and a clean environment apply."""
    env_args = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
    if not sandboxed:
        return rlimit_args(limits) + env_args + argv
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed; install Debian's `bubblewrap` "
                                 "(make setup does) or pass --no-sandbox to grade without isolation")
    root = os.geteuid() == 0
    args = [bwrap, "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not root:
        args += ["--unshare-user", "--cap-drop", "ALL"]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/usr"), Path("/etc"), Path("/tmp"), Path("/proc"), Path("/dev")}
    bound: list[Path] = []
    for path in readonly_paths(python or sandbox_python()):  # shallowest first
        if not any(path.is_relative_to(b) for b in bound):
            _mount(args, made, path, "--ro-bind")
            bound.append(path)
    if site is not None:
        _mount(args, made, site, "--ro-bind", SITE)
    _mount(args, made, workdir, "--bind")
    args += ["--chdir", str(workdir)]
    if root:
        for path in [workdir, *workdir.rglob("*")]:
            os.lchown(path, uid, uid)
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
        return args + ["--", *drop, *rlimit_args(limits), *env_args, *argv]
    return rlimit_args(limits) + args + ["--", *env_args, *argv]


class Scratch:
    """A private folder for one grading run under SCRATCH_ROOT, locked for as long as
    the run lasts. On entry, the folders of earlier runs that no longer hold their lock
    (a grader killed with SIGKILL) are removed, with whatever they still held."""

    def __init__(self):
        self.path: Path | None = None
        self._lock = None

    def __enter__(self) -> Path:
        import fcntl
        import tempfile

        SCRATCH_ROOT.mkdir(parents=True, exist_ok=True)
        os.chmod(SCRATCH_ROOT, 0o711)  # others may pass through to their own folder, never list
        for old in SCRATCH_ROOT.iterdir():
            lock_path = SCRATCH_ROOT / f"{old.name}.lock"
            if old.suffix == ".lock" or not old.is_dir():
                continue
            try:
                with open(lock_path, "a") as f:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: that run is alive
                    release_mounts(old)
                    shutil.rmtree(old, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
            except OSError:
                continue
        self.path = Path(tempfile.mkdtemp(prefix="run-", dir=SCRATCH_ROOT))
        os.chmod(self.path, 0o711)
        self._lock = open(SCRATCH_ROOT / f"{self.path.name}.lock", "a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        return self.path

    def __exit__(self, *exc) -> None:
        release_mounts(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        (SCRATCH_ROOT / f"{self.path.name}.lock").unlink(missing_ok=True)
        self._lock.close()


def release_mounts(folder: Path) -> None:
    """Unmount every work-folder tmpfs below `folder` (left by a killed run, or ours)."""
    try:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return
    own = str(folder.resolve())
    for target in sorted((m for m in mounts if m == own or m.startswith(own + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


def make_workdir(path: Path, uid: int, limits: Limits) -> str | None:
    """The submission's private work folder (mode 0700, owned by its uid). As root it is
    a tmpfs of `limits.work_bytes`, so a submission cannot fill the host's disk; else a
    plain folder (the returned note says so)."""
    path.mkdir(mode=0o700)
    if os.geteuid() != 0:
        return "the work folder has no disk cap (grading does not run as root)"
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o",
                           f"size={limits.work_bytes},mode=0700,uid={uid},gid={uid},nosuid,nodev",
                           "tmpfs", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"the work folder has no disk cap (mount failed: {proc.stderr.strip()[:200]})"
    return None
