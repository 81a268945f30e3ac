"""Everything that tells one mini-server from another, checked once, before it starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from .auth import ORIGIN
from .errors import ConfigurationError
from .passwords import DEFAULT_ROUNDS
from .refresh import REFRESH_LIFETIME, SHORT_ACCESS_LIFETIME
from .sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, TOUCH_INTERVAL
from .stores import UNKNOWN, Store, is_store_spec
from .tokens import ALGORITHM, ALGORITHMS, TOKEN_LIFETIME, Algorithm

if TYPE_CHECKING:
    from .hooks import Hooks

Mode = Literal["session", "token", "cookie-token"]
Revocation = Literal["none", "blacklist", "version"]
MODES: tuple[str, ...] = get_args(Mode)
REVOCATIONS: tuple[str, ...] = get_args(Revocation)


@dataclass(frozen=True)
class Settings:
    mode: Mode = "session"
    revocation: Revocation = "none"
    store: str | Store = "fakeredis"  # memory | fakeredis | a redis, postgresql, mongodb, mongomock URL | a Store
    secret: str | bytes | None = None  # None: $AUTHCOURSE_SECRET, else random per process
    bcrypt_rounds: int = DEFAULT_ROUNDS
    token_lifetime: float | None = None  # seconds; None: 24 h, or 15 min with refresh (always a number once made)
    idle_timeout: float = IDLE_TIMEOUT  # seconds
    absolute_timeout: float = ABSOLUTE_TIMEOUT  # seconds
    touch_interval: float = TOUCH_INTERVAL  # seconds
    secure_cookies: bool = False  # True behind HTTPS; plain http://127.0.0.1 would drop Secure cookies in httpx
    refresh: bool = False  # token modes: short access tokens renewed at POST /refresh (refresh.py)
    refresh_lifetime: float = REFRESH_LIFETIME  # seconds a refresh-token family lives after login
    signature_cache: bool = True  # remember signatures already checked (verified.py); False: an HMAC per request
    algorithm: Algorithm = ALGORITHM  # token modes: HS256 (one secret) or RS256/ES256/EdDSA (a key set, JWKS published)
    cross_site_guard: bool = False  # refuse unsafe cross-site requests by Sec-Fetch-Site / Origin (auth.CrossSiteGuard)
    trusted_origins: tuple[str, ...] = ()  # origins the guard lets through, e.g. ("https://app.bank.test",)
    hooks: Hooks | None = None  # your own authenticate/login/logout functions (hooks.py), for exercises

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.revocation not in REVOCATIONS:
            raise ConfigurationError(f"revocation must be one of {', '.join(REVOCATIONS)}, not {self.revocation!r}")
        if self.mode == "session" and self.revocation != "none":
            raise ConfigurationError(
                "revocation applies to the token modes; a session is revoked by deleting it from the store"
            )
        if self.algorithm not in ALGORITHMS:
            raise ConfigurationError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {self.algorithm!r}")
        if self.mode == "session" and self.algorithm != ALGORITHM:
            raise ConfigurationError(
                "the algorithm applies to the token modes; a session cookie is signed with the secret"
            )
        if not isinstance(self.store, Store) and not is_store_spec(self.store):
            raise ConfigurationError(f"unknown store {self.store!r}: {UNKNOWN}")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigurationError(f"bcrypt_rounds must be between 4 and 31, not {self.bcrypt_rounds}")
        if self.token_lifetime is None:
            # Refresh tokens exist so that access tokens can be short: 15 minutes unless told otherwise.
            object.__setattr__(self, "token_lifetime", SHORT_ACCESS_LIFETIME if self.refresh else TOKEN_LIFETIME)
        for name in ("token_lifetime", "idle_timeout", "absolute_timeout", "touch_interval", "refresh_lifetime"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        if isinstance(self.trusted_origins, str) or not all(
            isinstance(origin, str) and ORIGIN.match(origin) for origin in self.trusted_origins
        ):
            raise ConfigurationError("trusted_origins is a tuple of origins such as ('https://app.bank.test',)")
        if self.refresh and self.mode == "session":
            raise ConfigurationError("refresh tokens go with the token modes; a session is renewed by using it")

    @property
    def store_name(self) -> str:
        if isinstance(self.store, Store):
            return self.store.name
        scheme, separator, rest = self.store.rpartition("://")
        return f"{scheme}{separator}{rest.split('@')[-1]}"  # never a password
