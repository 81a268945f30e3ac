"""`Set-Cookie` as a browser reads it: leniently, contradictions and all (it judges them later).

`SetCookie.parse(header)` keeps what Chromium keeps from a header; only a missing name or a
control character is an error (`CookieModelError`). `SetCookie.from_cookie` takes the package's
own `Cookie`. What the browser then does with it is `cookiemodel.predict`'s question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from ..cookies import Cookie


class CookieModelError(ValueError):
    """Raised for input the model cannot judge: a malformed cookie, URL or request."""


@dataclass(frozen=True)
class SetCookie:
    """A cookie as a browser reads it from `Set-Cookie`, contradictions included (it judges them itself)."""

    name: str
    value: str
    max_age: int | None = None  # seconds
    expires: datetime | None = None
    domain: str | None = None
    path: str | None = None  # None: the default path, the directory of the URL that set it
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None  # "Strict", "Lax", "None", or None when absent (or unknown)

    @classmethod
    def from_cookie(cls, cookie: Cookie) -> SetCookie:
        return cls(cookie.name, cookie.value, cookie.max_age, cookie.expires, cookie.domain, cookie.path,
                   cookie.secure, cookie.http_only, cookie.same_site)

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        """Read a `Set-Cookie` value leniently, as a browser does; only a missing name is an error."""
        if not isinstance(header, str) or not header.strip():
            raise CookieModelError("a Set-Cookie header is a non-empty string")
        if any(ord(c) < 0x20 and c != "\t" for c in header):
            raise CookieModelError("a Set-Cookie header cannot contain control characters")
        pair, *attributes = [part.strip() for part in header.split(";")]
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise CookieModelError(f"no name=value pair in {header!r}")
        fields: dict[str, object] = {}
        for attribute in attributes:
            key, _, arg = attribute.partition("=")
            key, arg = key.strip().lower(), arg.strip()
            if key == "max-age":
                if arg.lstrip("-").isdigit():
                    fields["max_age"] = int(arg)
            elif key == "expires":
                try:
                    fields["expires"] = parsedate_to_datetime(arg)
                except (TypeError, ValueError, IndexError):
                    pass  # a browser ignores a date it cannot read
            elif key == "domain" and arg:
                fields["domain"] = arg.lstrip(".").lower()
            elif key == "path":
                fields["path"] = arg if arg.startswith("/") else None
            elif key == "secure":
                fields["secure"] = True
            elif key == "httponly":
                fields["http_only"] = True
            elif key == "samesite":
                fields["same_site"] = {"strict": "Strict", "lax": "Lax", "none": "None"}.get(arg.lower())
        return cls(name, value, **fields)  # type: ignore[arg-type]
