"""The judge's side of the harness: what the cases use to reach the learner's code.

`Remote` speaks to the harness (`harness.py`) in the learner's kernel: it asks for live servers
(`RemoteServer`: a URL, the store the judge reads itself, the secret the judge signs with) and
moves the clock of the kernel and of this process together. The cases then send their requests
and read the store from here; nothing the kernel says about a case is taken on trust.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import time_machine

from ..stores import Store
from .runtime import SetupError, Stuck

CONTROL_TIMEOUT = 10.0  # seconds the learner's code may take to start a server or answer a direct call


class Remote:
    """The harness at `url`; `store` is the store every harness server writes to, opened by the judge."""

    def __init__(self, url: str, store: Store, secret: str, *, same_process: bool) -> None:
        self.url = url
        self.store = store
        self.secret = secret.encode()
        self.same_process = same_process  # the learner's check in its own kernel: one clock for both sides
        self.http = httpx.Client(base_url=url, timeout=CONTROL_TIMEOUT)

    def call(self, op: str, **params: Any) -> Any:
        try:
            response = self.http.post("/", json={"op": op, **params})
            answer = response.json()
        except httpx.TimeoutException:
            raise Stuck(f"your code did not return within {CONTROL_TIMEOUT:g} s: does it loop forever?") from None
        except (httpx.HTTPError, ValueError) as error:
            raise SetupError(f"the kernel stopped answering the grader ({type(error).__name__})") from None
        if not isinstance(answer, dict):
            raise SetupError("the kernel answered the grader with something else than JSON")
        if "learner_error" in answer:
            raise SetupError(str(answer["learner_error"]), not_implemented=bool(answer.get("not_implemented")),
                             trace=str(answer.get("trace", "")))
        if "ok" not in answer:
            raise SetupError(f"the harness refused: {answer.get('error')}")
        return answer["ok"]

    def server(self, started: dict[str, Any]) -> RemoteServer:
        secret = started.get("secret")
        return RemoteServer(self, str(started["id"]), str(started["url"]),
                            secret.encode("latin-1") if isinstance(secret, str) else self.secret)

    def start(self, op: str, **params: Any) -> RemoteServer:
        return self.server(self.call(op, **params))

    def missing(self, names: tuple[str, ...]) -> list[str]:
        return list(self.call("names", names=list(names))["missing"])

    @contextmanager
    def later(self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> Iterator[None]:
        """Run the block as if that much time had passed, in the learner's kernel and in the judge alike."""
        offset = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        self.call("clock", offset=offset)
        try:
            if self.same_process:
                yield
            else:
                with time_machine.travel(time.time() + offset, tick=True):
                    yield
        finally:
            self.call("clock", offset=0)

    @contextmanager
    def at(self, when: float) -> Iterator[None]:
        """Run the block as if the clock read `when` (epoch seconds) on entry, in the kernel and the judge."""
        with self.later(seconds=when - time.time()):
            yield

    def stop_all(self) -> None:
        try:
            self.call("stop")
        except (SetupError, Stuck):
            pass

    def close(self) -> None:
        self.http.close()


class RemoteServer:
    """One live server in the learner's kernel, as the judge sees it."""

    def __init__(self, remote: Remote, id: str, url: str, secret: bytes) -> None:
        self.remote = remote
        self.id = id
        self.url = url
        self.secret = secret
        self.last_error: Any = None

    @property
    def store(self) -> Store:
        return self.remote.store

    def new_learner_error(self) -> str | None:
        """The learner's exception behind the last response, in one line, if it raised one since the last call."""
        try:
            found = self.remote.call("errors", server=self.id)
        except (SetupError, Stuck):
            return None
        if found.get("last") is None or found["last"] == self.last_error:
            return None
        self.last_error = found["last"]
        if found.get("not_implemented"):
            return "not implemented yet: your function still raises NotImplementedError"
        return f"your code raised {found.get('text')}"

    def stop(self) -> None:
        self.remote.call("stop", server=self.id)

    def __repr__(self) -> str:
        return f"<RemoteServer {self.id} {self.url}>"
