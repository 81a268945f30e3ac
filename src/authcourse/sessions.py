"""Server-side sessions: an opaque, signed id in a cookie; everything else in the store.

The id is 256 bits from `secrets` (OWASP asks for at least 64 bits of entropy; 128 is the usual
floor). The cookie carries `<id>.<HMAC-SHA256 of the id>`, as express-session signs
`connect.sid`: a forged or mangled cookie is refused without touching the store. A cookie whose
signature checked out once may be remembered (`verified.py`, `cache_size`; 0 checks every
signature every time); the store is read on every request. A session
ends at whichever comes first: `idle_timeout` without a request, or `absolute_timeout` after
login. Every expiry is checked against `clock.now()`, whatever the store's own TTL says.

The store never holds a session id, only its SHA-256 (`stored_id`): a copy of the store (a backup,
an exposed Redis, a leaked table) names sessions no cookie can reach, even with the signing secret.
A plain fast hash is enough here, unlike for passwords: the id is 256 random bits, so there is no
dictionary to try and a preimage costs 2**256 guesses (OWASP Session Management Cheat Sheet).
Each session also keeps its device (the User-Agent at login) for the list of active sessions,
where it is named by a `handle` derived from the stored hash: never the id itself (ASVS V7.5.2).
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
MAX_DEVICE_CHARS = 200  # a User-Agent is kept for the sessions list, cut to this length
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
    device: str = ""  # the User-Agent at login, for the list of active sessions


@dataclass(frozen=True)
class SessionInfo:
    """One line of a user's active sessions: what the user may see (never the id, never its hash)."""

    handle: str
    device: str
    created_at: float  # epoch seconds
    last_seen: float  # epoch seconds, written back at most every `touch_interval`
    stored: str  # the hash the store keys it by, for the server's own use (not shown)


def stored_id(session_id: str) -> str:
    """What the store keeps instead of a session id: SHA-256, unpadded base64url (43 characters)."""
    digest = hashlib.sha256(session_id.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def handle_of(stored: str) -> str:
    """The public name of a session in the sessions list: another hash, of the stored one (128 bits)."""
    digest = hashlib.sha256(b"handle:" + stored.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
    if not isinstance(session.device, str):
        return None
    return session


def session_key(session_id: str) -> str:
    """The store key of a session id: `session:<SHA-256 of the id>`; the id itself is never stored."""
    return stored_session_key(stored_id(session_id))


def stored_session_key(stored: str) -> str:
    return f"session:{stored}"


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

    def stored_form(self, session_id: str) -> str:
        """What the store keeps for a session id: its hash (a subclass in vulnerable/ keeps it plain)."""
        return stored_id(session_id)

    def key_of(self, session_id: str) -> str:
        return stored_session_key(self.stored_form(session_id))

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
        self.store.set(self.key_of(session.id), json.dumps(data), ttl=self._ttl(session, at))

    def create_session(
        self, user_id: int, role: str, *, created_at: float | None = None, device: str = ""
    ) -> Session:
        """A brand-new session with a fresh random id (never one the client proposed)."""
        at = now()
        device = device[:MAX_DEVICE_CHARS]
        session = Session(secrets.token_urlsafe(SESSION_ID_BYTES), user_id, role, created_at or at, at, device)
        self._save(session, at)
        self.store.add_member(user_sessions_key(user_id), self.stored_form(session.id), ttl=self.absolute_timeout)
        return session

    def load_session(self, cookie_value: str | None) -> Session | None:
        """The live session a cookie points to, touched; None if missing, forged or expired."""
        session_id = self.unsign(cookie_value) if cookie_value else None
        if session_id is None:
            return None
        session = parse_session(session_id, self.store.get(self.key_of(session_id)))
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
        return self.create_session(
            session.user_id, session.role, created_at=session.created_at, device=session.device
        )

    def destroy_session(self, session: Session) -> None:
        """Delete the session from the store: its cookie is worthless from now on."""
        self.store.delete(self.key_of(session.id))
        self.store.remove_member(user_sessions_key(session.user_id), self.stored_form(session.id))

    def destroy_all_for_user(self, user_id: int) -> int:
        """Delete every session of a user (log out everywhere); return how many were live."""
        key = user_sessions_key(user_id)
        stored = self.store.members(key)
        count = self.store.delete(*(stored_session_key(each) for each in stored)) if stored else 0
        self.store.delete(key)
        return count

    # The user's view of their sessions (ASVS V7.5.2) ------------------------------------------

    def list_sessions(self, user_id: int) -> list[SessionInfo]:
        """The user's live sessions, oldest first; members whose session has ended are dropped."""
        key = user_sessions_key(user_id)
        found = []
        at = now()
        for stored in self.store.members(key):
            session = parse_session("", self.store.get(stored_session_key(stored)))
            if session is None or session.user_id != user_id or self._ttl(session, at) <= 0:
                self.store.remove_member(key, stored)
                continue
            found.append(SessionInfo(handle_of(stored), session.device, session.created_at, session.last_seen, stored))
        return sorted(found, key=lambda info: (info.created_at, info.handle))

    def destroy_by_handle(self, user_id: int, handle: str) -> bool:
        """End the session of this user that the handle names; False if the user has none by that handle."""
        for info in self.list_sessions(user_id):
            if hmac.compare_digest(info.handle, handle):
                self.store.delete(stored_session_key(info.stored))
                self.store.remove_member(user_sessions_key(user_id), info.stored)
                return True
        return False
