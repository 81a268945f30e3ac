"""What the throwaway servers share: a free loopback port to listen on, and ending a process we started."""

from __future__ import annotations

import socket
import subprocess


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def end_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a server process we started: SIGTERM, then SIGKILL if it has not exited in `timeout` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
