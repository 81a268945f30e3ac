"""Server-side sessions: an opaque, signed id in a cookie; everything else in the store.

The id is 256 bits from `secrets` (OWASP asks for at least 64 bits of entropy; 128 is the usual
floor). The cookie carries `<id>.<HMAC-SHA256 of the id>`, as express-session signs
`connect.sid`: a forged or mangled cookie is refused without touching the store. A cookie whose
signature checked out once may be remembered (`verified.py`, `cache_size`; 0 checks every
signature every time); the store is read on every request. A session
ends at whichever comes first: `idle_timeout` without a request, or `absolute_timeout` after
login. Every expiry is checked against `clock.now()`, whatever the store's own TTL says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import asdict, dataclass

from .clock import now
from .stores import Store
from .verified import CACHE_SIZE, VerifiedCache

SESSION_ID_BYTES = 32  # 256 bits
IDLE_TIMEOUT = 30 * 60  # seconds without a request before a session ends
ABSOLUTE_TIMEOUT = 24 * 60 * 60  # seconds after login before a session ends regardless
TOUCH_INTERVAL = 60  # seconds: a session's idle clock is written back at most this often

_SIGNATURE_CHARS = 43  # unpadded base64url of a 32-byte HMAC-SHA256
_MAX_COOKIE_CHARS = 2 * SESSION_ID_BYTES + _SIGNATURE_CHARS


@dataclass
class Session:
    id: str
    user_id: int
    role: str
    created_at: float  # epoch seconds
    last_seen: float  # epoch seconds


def parse_session(session_id: str, raw: str | None) -> Session | None:
    """The session a stored entry describes, or None if it is missing or malformed.

    A row that is not what this module writes (damaged, hand-edited, written by another
    program) is no session: the request is refused like one without a cookie (401), and the
    row is left for its TTL to retire, since what wrote it is unknown.
    """
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        session = Session(id=session_id, **data)
    except (TypeError, ValueError):
        return None
    times = (session.created_at, session.last_seen)
    times_are_numbers = all(type(t) in (int, float) and math.isfinite(t) for t in times)
    if type(session.user_id) is not int or not isinstance(session.role, str) or not times_are_numbers:
        return None
    return session


def session_key(session_id: str) -> str:
    return f"session:{session_id}"


def user_sessions_key(user_id: int) -> str:
    return f"user-sessions:{user_id}"


class SessionManager:
    """Create, load, touch, regenerate and destroy sessions in a store."""

    def __init__(
        self,
        store: Store,
        secret: bytes,
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        absolute_timeout: float = ABSOLUTE_TIMEOUT,
        touch_interval: float = TOUCH_INTERVAL,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.store = store
        self._secret = secret
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self.touch_interval = min(touch_interval, idle_timeout)
        self.verified: VerifiedCache[str] = VerifiedCache(cache_size)

    # The cookie value -------------------------------------------------------------------

    def _signature(self, session_id: str) -> str:
        mac = hmac.digest(self._secret, session_id.encode("ascii"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def sign(self, session_id: str) -> str:
        """The cookie value for a session id: `<id>.<signature>`."""
        return f"{session_id}.{self._signature(session_id)}"

    def unsign(self, cookie_value: str) -> str | None:
        """The session id if the cookie's signature is ours, else None (never an exception)."""
        session_id = self.verified.get(cookie_value)
        if session_id is not None:
            return session_id
        if len(cookie_value) > _MAX_COOKIE_CHARS or not cookie_value.isascii():
            return None
        session_id, _, signature = cookie_value.rpartition(".")
        if not session_id or not hmac.compare_digest(signature, self._signature(session_id)):
            return None
        self.verified.remember(cookie_value, session_id)
        return session_id

    # The session's life ---------------------------------------------------------------------

    def _ttl(self, session: Session, at: float) -> float:
        idle_left = session.last_seen + self.idle_timeout - at
        absolute_left = session.created_at + self.absolute_timeout - at
        return min(idle_left, absolute_left)

    def _save(self, session: Session, at: float) -> None:
        data = asdict(session)
        del data["id"]
        self.store.set(session_key(session.id), json.dumps(data), ttl=self._ttl(session, at))

    def create_session(self, user_id: int, role: str, *, created_at: float | None = None) -> Session:
        """A brand-new session with a fresh random id (never one the client proposed)."""
        at = now()
        session = Session(secrets.token_urlsafe(SESSION_ID_BYTES), user_id, role, created_at or at, at)
        self._save(session, at)
        self.store.add_member(user_sessions_key(user_id), session.id, ttl=self.absolute_timeout)
        return session

    def load_session(self, cookie_value: str | None) -> Session | None:
        """The live session a cookie points to, touched; None if missing, forged or expired."""
        session_id = self.unsign(cookie_value) if cookie_value else None
        if session_id is None:
            return None
        session = parse_session(session_id, self.store.get(session_key(session_id)))
        if session is None:
            return None
        at = now()
        if self._ttl(session, at) <= 0:
            self.destroy_session(session)
            return None
        if at - session.last_seen >= self.touch_interval:
            session.last_seen = at
            self._save(session, at)
        return session

    def regenerate_session(self, session: Session) -> Session:
        """Move a session's data to a new id and destroy the old one (after any privilege change)."""
        self.destroy_session(session)
        return self.create_session(session.user_id, session.role, created_at=session.created_at)

    def destroy_session(self, session: Session) -> None:
        """Delete the session from the store: its cookie is worthless from now on."""
        self.store.delete(session_key(session.id))
        self.store.remove_member(user_sessions_key(session.user_id), session.id)

    def destroy_all_for_user(self, user_id: int) -> int:
        """Delete every session of a user (log out everywhere); return how many were live."""
        key = user_sessions_key(user_id)
        ids = self.store.members(key)
        count = self.store.delete(*(session_key(session_id) for session_id in ids)) if ids else 0
        self.store.delete(key)
        return count
