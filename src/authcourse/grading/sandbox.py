"""The sandbox of one submission's kernel: Debian's bubblewrap (`bwrap`), plus resource limits (`prlimit`).

What the kernel sees: the system (`/usr`, `/etc`) and the Python environment with the authcourse
package, all read-only; a private, empty, writable `/tmp`; one writable working folder that holds
only its own connection file; its own `/proc` and `/dev`. Not the other submissions, not the
grader's output folder, not the instructor's hidden cases, not the home folder. A new PID
namespace (every process of the submission dies with it: `--unshare-pid --die-with-parent`), no
capabilities (`--cap-drop ALL`), a new session (no terminal injection), a clean environment.
The network is the grader's worker's own: the worker first moves itself into a fresh network
namespace that has only a loopback (`isolate_network`), so the kernel can reach nothing but the
grader's judge and the shared store beside it, and nothing outside can reach the kernel.
Limits: address space (`--as`), CPU seconds (`--cpu`), no core files. Its time zone is UTC+14
(`TIME_ZONE`): time that depends on the machine's time zone shows.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import socket
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

CLONE_NEWNET = 0x40000000
# The kernel's local time zone: 14 h ahead of UTC, so that an answer mixing naive local and UTC
# datetimes (`datetime.utcnow().timestamp()`) is off by 14 hours, not by the grader's own offset.
TIME_ZONE = "Pacific/Kiritimati"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


class SandboxError(RuntimeError):
    """Raised when the sandbox cannot be set up (no bwrap, no permission for a network namespace)."""


def bwrap() -> str | None:
    return shutil.which("bwrap")


def isolate_network() -> None:
    """Move this process (call it before any thread starts) into a new network namespace with only `lo`, up."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise SandboxError(f"cannot make a network namespace: {os.strerror(ctypes.get_errno())}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def package_root() -> Path:
    """The folder holding the `authcourse` package (src/ of a checkout, or site-packages)."""
    return Path(__file__).resolve().parents[2]  # grading/ -> authcourse/ -> the folder holding it


def command(kernel: list[str], work: Path, *, memory_mib: int, cpu_seconds: int,
            extra_environment: Mapping[str, str] | None = None) -> list[str]:
    """`kernel` (a command line) wrapped in the limits and the sandbox; `work` is its one writable folder.

    The kernel's environment is the clean one below, plus `extra_environment` (an attack lab's target URL)."""
    found = bwrap()
    if found is None:
        raise SandboxError("bwrap not found")
    args = [found]
    for top in ("bin", "lib", "lib32", "lib64", "sbin"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev"]
    args += ["--tmpfs", "/tmp"]
    readable = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package_root()}
    for path in sorted(readable):
        if not str(path).startswith("/usr"):
            args += ["--ro-bind", str(path), str(path)]
    if Path(sys.executable).parent != Path(sys.prefix) / "bin":  # a Python outside its prefix: bind its folder
        args += ["--ro-bind", str(Path(sys.executable).parent), str(Path(sys.executable).parent)]
    args += ["--bind", str(work), str(work), "--chdir", str(work)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
                   "IPYTHONDIR": "/tmp/ipython", "JUPYTER_RUNTIME_DIR": "/tmp", "MPLBACKEND": "Agg",
                   "PYTHONDONTWRITEBYTECODE": "1", "TZ": TIME_ZONE, **(extra_environment or {})}
    for name, value in environment.items():
        args += ["--setenv", name, value]
    limits = ["prlimit", f"--as={memory_mib * 2**20}", f"--cpu={cpu_seconds}", "--core=0", "--"]
    return [*limits, *args, "--", *kernel]


SETTINGS = (
    "bwrap: read-only /usr, /etc, Python prefix and package; private tmpfs /tmp; one writable work folder; "
    "own /proc and /dev; --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try --die-with-parent "
    "--new-session --cap-drop ALL --clearenv, TZ=Pacific/Kiritimati; network: a fresh namespace with only loopback, shared with the "
    "grader's worker; prlimit: --as (memory), --cpu, --core=0"
)
