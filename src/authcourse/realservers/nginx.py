"""Debian's nginx as the fleet's load balancer: an upstream block, round-robin, on a free loopback port.

The configuration is generated into a temporary folder, which also holds nginx's pid file, logs
and temporary files, so nothing is written outside it, and nginx runs in the foreground
(`daemon off;`) as our child, in one process (`master_process off;`): stopping it, or killing it,
is one process gone, then the folder removed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from ..fleet.balancer import BalancerError
from .process import end_process, free_port

START_TIMEOUT = 10.0  # seconds
STOP_TIMEOUT = 5.0  # seconds

# master_process off: one process that serves, so stopping (or killing) that one pid leaves no worker behind.
CONFIG = """\
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream authcourse {{
        # round-robin, the default; max_fails=0: never take a server out of the rotation
{servers}
        keepalive 32;
        keepalive_timeout 2s;  # under the servers' own 5 s, so nginx never reuses a connection they close
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://authcourse;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream off;
        }}
    }}
}}
"""


class NginxUnavailable(BalancerError):
    """Raised when Debian's nginx is not installed (apt-get install nginx)."""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), None)


class NginxBalancer:
    """`with NginxBalancer(["http://127.0.0.1:8001", ...]) as lb: lb.url` is nginx in front of them."""

    kind = "nginx"

    def __init__(self, upstreams: Sequence[str], *, port: int = 0) -> None:
        if not upstreams:
            raise BalancerError("a balancer needs at least one server")
        self.upstreams = list(upstreams)
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def config(self) -> str:
        assert self._dir is not None
        servers = "\n".join(f"        server {url.removeprefix('http://')} max_fails=0;" for url in self.upstreams)
        return CONFIG.format(dir=self._dir.name, port=self.port, servers=servers)

    def start(self) -> NginxBalancer:
        binary = nginx_binary()
        if binary is None:
            raise NginxUnavailable("nginx is not installed (Debian: apt-get install nginx)")
        self._dir = tempfile.TemporaryDirectory(prefix="authcourse-nginx-")
        self.port = self.port or free_port()
        conf = Path(self._dir.name) / "nginx.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen(
            [binary, "-p", self._dir.name, "-c", str(conf), "-e", f"{self._dir.name}/error.log", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Stopped when Python exits (a kernel restart) even if nobody called stop().
        self._finalizer = weakref.finalize(self, end_process, self.process, STOP_TIMEOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    why = self.process.stderr.read().decode(errors="replace").strip() if self.process.stderr else ""
                    self.stop()
                    raise BalancerError(f"nginx did not start on port {self.port}: {why or 'no message'}") from None
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop nginx (its master and worker) and remove its folder; safe to call twice."""
        if self.process is not None:
            self._finalizer.detach()
            end_process(self.process, STOP_TIMEOUT)  # SIGTERM: nginx's fast shutdown
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> NginxBalancer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
