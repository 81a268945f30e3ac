"""The users the course logs in as: two demo users, and any you add for experiments."""

from __future__ import annotations

import functools
import itertools
import json
import threading
from dataclasses import dataclass, field, replace
from typing import Literal

from .passwords import DEFAULT_ROUNDS, dummy_hash, hash_password, password_bytes, verify_password

Role = Literal["user", "admin"]

DEMO_USERS = (
    # email, password, name, role
    ("alice@example.com", "wonderland", "Alice", "user"),
    ("bob@example.com", "builder", "Bob", "admin"),
)

# The demo passwords hashed once at the default work factor, like rows of a seeded database,
# so a server starts in milliseconds instead of hashing them again. Any other work factor
# hashes them at start (once per process).
_SEEDED_HASHES = {
    ("wonderland", 12): "$2b$12$duLw0uIQwhXeSLBBNVEfYOuuSCZgVEUo9Fx3y9dsheZIv3dV6hiM6",
    ("builder", 12): "$2b$12$VwpcYXv2TG3J78np1zOczui2GNzvkQ.rjBUcnzqwgOv4mIJShOyCm",
}


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    password_hash: str = field(repr=False)

    def public(self) -> dict[str, object]:
        """What the API shows of a user (never the hash)."""
        return {"id": self.id, "name": self.name, "email": self.email, "role": self.role}

    @functools.cached_property
    def profile_json(self) -> bytes:
        """The body of `GET /api/profile` for this user, rendered once (a change makes a new User)."""
        return json.dumps({"user": self.public()}, separators=(",", ":")).encode()


@functools.cache
def _demo_hash(password: str, rounds: int) -> str:
    return _SEEDED_HASHES.get((password, rounds)) or hash_password(password, rounds)


class UserDirectory:
    """Users by email and by id, standing in for the lesson's database."""

    def __init__(self, rounds: int = DEFAULT_ROUNDS, *, demo_users: bool = True) -> None:
        self.rounds = rounds
        self._by_email: dict[str, User] = {}
        self._by_id: dict[int, User] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        if demo_users:
            for email, password, name, role in DEMO_USERS:
                self._add(email, _demo_hash(password, rounds), name, role)
        dummy_hash(rounds)  # computed now, not during the first login of an unknown user

    def _add(self, email: str, password_hash: str, name: str, role: Role) -> User:
        key = email.strip().lower()
        with self._lock:
            if key in self._by_email:
                raise ValueError(f"a user with email {email!r} already exists")
            user = User(next(self._ids), key, name, role, password_hash)
            self._by_email[key] = user
            self._by_id[user.id] = user
        return user

    def add_user(self, email: str, password: str, *, name: str | None = None, role: Role = "user") -> User:
        """Register a user (the password is hashed at this directory's work factor)."""
        if role not in ("user", "admin"):
            raise ValueError(f"role must be 'user' or 'admin', not {role!r}")
        return self._add(email, hash_password(password, self.rounds), name or email.split("@")[0], role)

    def set_role(self, user_id: int, role: Role) -> User:
        """Change a user's role (promote, demote); return the user as now stored.

        Tokens already issued keep the role they were signed with: see chapter 3.
        """
        if role not in ("user", "admin"):
            raise ValueError(f"role must be 'user' or 'admin', not {role!r}")
        with self._lock:
            user = replace(self._by_id[user_id], role=role)
            self._by_id[user_id] = self._by_email[user.email] = user
        return user

    def set_password(self, user_id: int, password: str) -> User:
        """Give a user a new password (hashed here, at this directory's work factor); return the user.

        Changing a password ends no session by itself: the web app does that (ASVS V7.4.3).
        """
        password_hash = hash_password(password, self.rounds)
        with self._lock:
            user = replace(self._by_id[user_id], password_hash=password_hash)
            self._by_id[user_id] = self._by_email[user.email] = user
        return user

    def set_email(self, user_id: int, email: str) -> User:
        """Move a user to a new email address; ValueError if another user has it."""
        key = email.strip().lower()
        with self._lock:
            holder = self._by_email.get(key)
            if holder is not None and holder.id != user_id:
                raise ValueError("a user with that email already exists")
            user = self._by_id[user_id]
            del self._by_email[user.email]
            user = replace(user, email=key)
            self._by_id[user_id] = self._by_email[key] = user
        return user

    def find(self, email: str) -> User | None:
        return self._by_email.get(email.strip().lower())

    def get(self, user_id: int) -> User | None:
        return self._by_id.get(user_id)

    def __iter__(self):
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def authenticate(self, email: str, password: str) -> User | None:
        """The user if email and password match, else None.

        Exactly one bcrypt verification runs either way, so an unknown email and a wrong
        password take the same time and give the same answer.
        """
        password_bytes(password)  # a too-long password is refused the same way for everyone
        user = self.find(email)
        # Verify a dummy hash so unknown users take as long as wrong passwords.
        hashed = user.password_hash if user else dummy_hash(self.rounds)
        matches = verify_password(password, hashed)
        return user if matches and user is not None else None
