"""Run a command in isolation: bubblewrap namespaces, an unprivileged uid, rlimits.

What the sandboxed process sees: the system's /usr and /etc read-only, the Python
installation and the virtual environment read-only, the `autograde` package read-only,
an empty, size-capped /tmp of its own, and one writable folder (the submission's work folder). No network
(a network namespace with only loopback), no other process (a pid namespace), no
capabilities. It does not see the course folder, the gradebook, `solutions/`, other
submissions or anyone's home.

Limits (setrlimit, inherited by every process the submission starts): CPU seconds,
address space, number of processes (per uid: each parallel slot has its own uid),
file size and open files; wall time is enforced by the caller, output size by the
runner inside. Each parallel slot runs as a uid of its own (`UidClaim`).
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import autograde

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
    cell_timeout: int = 60


class SandboxUnavailable(RuntimeError):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _package_dir() -> Path:
    return Path(autograde.__file__).resolve().parent


def readonly_paths() -> list[Path]:
    """What the sandbox may read beyond /usr and /etc: Python and the course package."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), _package_dir()}
    # An editable install points at the package's source folder; a normal one lives
    # inside site-packages, already covered by the prefix.
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
            sandboxed: bool = True) -> list[str]:
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
    for path in readonly_paths():  # shallowest first: a path inside a bound one is visible already
        if not any(path.is_relative_to(b) for b in bound):
            _mount(args, made, path, "--ro-bind")
            bound.append(path)
    _mount(args, made, workdir, "--bind")
    args += ["--chdir", str(workdir)]
    if root:
        os.chown(workdir, uid, uid)
        for path in workdir.rglob("*"):
            os.chown(path, uid, uid)
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
        return args + ["--", *drop, *rlimit_args(limits), *env_args, *argv]
    return rlimit_args(limits) + args + ["--", *env_args, *argv]
