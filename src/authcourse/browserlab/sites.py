"""Origins and sites, as a browser tells them apart for cookies.

A site is a scheme and a registrable domain, never a port (`https://app.bank.test:8443` and
`https://bank.test` are one site, two origins). The public suffix list here is a short one
(Chromium uses the whole list). Also the RFC 6265 rules for a cookie's `Path` and `Domain`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from .setcookie import CookieModelError

MULTI_LABEL_SUFFIXES = {"co.uk", "org.uk", "ac.uk", "com.au", "co.jp", "github.io", "herokuapp.com"}
TRUSTWORTHY_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    path: str

    @property
    def secure(self) -> bool:
        """A secure context for cookies: https, or a loopback name the browser trusts."""
        return self.scheme == "https" or self.host in TRUSTWORTHY_HOSTS or self.host.endswith(".localhost")

    @property
    def site(self) -> tuple[str, str]:
        return (self.scheme, registrable_domain(self.host))


def read_url(url: str, what: str = "url") -> Origin:
    if not isinstance(url, str):
        raise CookieModelError(f"{what} must be a string URL, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise CookieModelError(f"{what} {url!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise CookieModelError(f"{what} must be an http or https URL, not {url!r}")
    if not parts.hostname:
        raise CookieModelError(f"{what} {url!r} has no host")
    default = 443 if parts.scheme == "https" else 80
    return Origin(parts.scheme, parts.hostname.lower(), port or default, parts.path or "/")


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def registrable_domain(host: str) -> str:
    """The part of a host name that makes a site: `app.bank.test` -> `bank.test` (an IP is its own site)."""
    if is_ip(host) or "." not in host:
        return host
    labels = host.split(".")
    suffix_labels = 2 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 1
    return ".".join(labels[-(suffix_labels + 1):])


def is_public_suffix(domain: str) -> bool:
    single_label = "." not in domain and not is_ip(domain) and domain != "localhost"
    return single_label or domain in MULTI_LABEL_SUFFIXES


def default_path(path: str) -> str:
    """RFC 6265 5.1.4: the directory of the request path that set the cookie."""
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (cookie_path.endswith("/") or request_path[len(cookie_path)] == "/")


def domain_matches(host: str, domain: str) -> bool:
    return host == domain or (not is_ip(host) and host.endswith("." + domain))


def fetch_site(from_url: str | None, to_url: str) -> str:
    """The `Sec-Fetch-Site` a browser sends: how the page that made the request relates to its target.

    `none` when no page made it (typed in the address bar, a bookmark); otherwise `same-origin`
    (scheme, host and port all equal), `same-site` (one scheme and registrable domain), or `cross-site`.
    """
    target = read_url(to_url, "to_url")
    if from_url is None:
        return "none"
    source = read_url(from_url, "from_url")
    if (source.scheme, source.host, source.port) == (target.scheme, target.host, target.port):
        return "same-origin"
    return "same-site" if source.site == target.site else "cross-site"
