"""A small model of a cookie and its attributes, rendered to and parsed from `Set-Cookie`.

It refuses the combinations a browser would refuse or that defeat their purpose:
`SameSite=None` without `Secure`, a `__Secure-` cookie without `Secure`, and a `__Host-`
cookie that is not Secure, names a Domain, or has a Path other than `/` (RFC 6265bis).
The server uses this model for every cookie it sets, so what the course explains is what it sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.utils import format_datetime, parsedate_to_datetime
from datetime import datetime, timezone
from typing import Literal

SameSite = Literal["Strict", "Lax", "None"]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token: a valid cookie name
_VALUE = re.compile(r'^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$')  # RFC 6265 cookie-octet
_RESERVED = {"expires", "max-age", "domain", "path", "secure", "httponly", "samesite", "partitioned"}


class CookieError(ValueError):
    """Raised when a cookie's attributes contradict each other or its name or value is invalid."""


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    max_age: int | None = None  # seconds; None with no `expires` makes a session cookie
    expires: datetime | None = None
    domain: str | None = None
    path: str | None = "/"
    secure: bool = False
    http_only: bool = True
    same_site: SameSite | None = "Lax"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise CookieError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every rule this cookie breaks (empty when it is valid)."""
        found = []
        if not _TOKEN.match(self.name) or self.name.lower() in _RESERVED:
            found.append(f"invalid cookie name {self.name!r}")
        if not _VALUE.match(self.value):
            found.append("cookie value has characters a cookie cannot carry (space, quote, comma, semicolon...)")
        if self.same_site not in (None, "Strict", "Lax", "None"):
            found.append(f"SameSite must be Strict, Lax or None, not {self.same_site!r}")
        if self.same_site == "None" and not self.secure:
            found.append("SameSite=None requires Secure")
        if self.name.startswith("__Secure-") and not self.secure:
            found.append("a __Secure- cookie requires Secure")
        if self.name.startswith("__Host-"):
            if not self.secure:
                found.append("a __Host- cookie requires Secure")
            if self.domain is not None:
                found.append("a __Host- cookie must not have a Domain")
            if self.path != "/":
                found.append("a __Host- cookie must have Path=/")
        if self.path is not None and not self.path.startswith("/"):
            found.append("Path must start with /")
        return found

    def render(self) -> str:
        """The value of a `Set-Cookie` header for this cookie."""
        parts = [f"{self.name}={self.value}"]
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.expires is not None:
            parts.append(f"Expires={format_datetime(self.expires.astimezone(timezone.utc), usegmt=True)}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        if self.same_site is not None:
            parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)

    def expired(self) -> Cookie:
        """The same cookie set to expire at once: how a server tells a browser to drop it."""
        return replace(self, value="", max_age=0, expires=datetime(1970, 1, 1, tzinfo=timezone.utc))

    @classmethod
    def parse(cls, header: str) -> Cookie:
        """Read a `Set-Cookie` header value back into a Cookie (attribute names are case-insensitive)."""
        pair, *attributes = [part.strip() for part in header.split(";")]
        name, sep, value = pair.partition("=")
        if not sep:
            raise CookieError(f"no name=value pair in {header!r}")
        fields: dict[str, object] = {"path": None, "http_only": False, "same_site": None}
        for attribute in attributes:
            key, _, arg = attribute.partition("=")
            key = key.strip().lower()
            arg = arg.strip()
            if key == "max-age":
                try:
                    fields["max_age"] = int(arg)
                except ValueError:
                    raise CookieError(f"Max-Age must be a whole number of seconds, not {arg!r}") from None
            elif key == "expires":
                try:
                    fields["expires"] = parsedate_to_datetime(arg)
                except (TypeError, ValueError):
                    raise CookieError(f"cannot read the date {arg!r}") from None
            elif key == "domain":
                fields["domain"] = arg
            elif key == "path":
                fields["path"] = arg
            elif key == "secure":
                fields["secure"] = True
            elif key == "httponly":
                fields["http_only"] = True
            elif key == "samesite":
                fields["same_site"] = arg.capitalize()
        return cls(name.strip(), value.strip(), **fields)  # type: ignore[arg-type]
