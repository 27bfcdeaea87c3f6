"""Connection settings: shop URL, access token, API version, timeout. The one place env vars are read."""

from __future__ import annotations

import hmac
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from pipeline.errors import ConfigError

DEFAULT_API_VERSION = "2026-07"
DEFAULT_TIMEOUT = 30.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_HANDLE = re.compile(r"[a-z0-9][a-z0-9-]*")
_MYSHOPIFY = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_API_VERSION = re.compile(r"\d{4}-(01|04|07|10)|unstable")
# A shop's address may be pasted with its admin or GraphQL path: the shop is the host.
_ADMIN_PATH = re.compile(r"(/admin(/api/[\w-]+/graphql\.json)?)?")
_HINT = "use mystore, mystore.myshopify.com or https://mystore.myshopify.com"


class Secret:
    """A string that never shows itself: its repr, str and format are `<hidden>`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one header that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "<hidden>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        # Pickling would write the token into whatever file receives it.
        raise TypeError("a Secret cannot be pickled")


def normalise_shop(value: str) -> str:
    """`mystore`, `mystore.myshopify.com`, `https://...` or loopback http → `scheme://host[:port]`."""
    text = value.strip()
    if not text:
        raise ConfigError(f"no shop given: {_HINT}")
    schemeless = "://" not in text
    if schemeless:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host, port = (parts.hostname or ""), parts.port
    except ValueError as exc:
        raise ConfigError(f"shop {value!r} is not a valid address: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"shop {value!r}: only https (or http to loopback) is allowed")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"shop {value!r}: a user, query or fragment is not allowed; {_HINT}")
    if host in LOOPBACK_HOSTS:
        # The simulator: plain http unless told otherwise, and any path (the URL `serve` prints
        # ends in /admin/api/<version>/graphql.json) stands for the server itself.
        scheme = "http" if schemeless else parts.scheme
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}" + (f":{port}" if port else "")
    if not _ADMIN_PATH.fullmatch(parts.path.rstrip("/")):
        raise ConfigError(f"shop {value!r}: unexpected path {parts.path!r}; {_HINT}")
    if parts.scheme == "http":
        raise ConfigError(f"shop {value!r}: plain http is only allowed to 127.0.0.1, localhost or [::1]")
    if _HANDLE.fullmatch(host):
        host = f"{host}.myshopify.com"
    if not _MYSHOPIFY.fullmatch(host):
        # The token must only ever travel to Shopify itself or to a local simulator.
        raise ConfigError(f"shop {value!r} is not a *.myshopify.com domain; {_HINT}")
    if port not in (None, 443):
        raise ConfigError(f"shop {value!r}: a port other than 443 is not allowed for myshopify.com")
    return f"https://{host}"


def _read_token_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read token file {path}: {type(exc).__name__}") from None
    return text.strip()


def _check_token(token: str, source: str) -> Secret:
    if not token:
        raise ConfigError(f"the access token from {source} is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # A newline inside would let the value inject HTTP headers; never echo it back.
        raise ConfigError(f"the access token from {source} contains spaces or control characters")
    return Secret(token)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionSettings:
    """Where and how to reach Shopify. Build it with `from_options`."""

    shop_url: str
    token: Secret
    api_version: str = DEFAULT_API_VERSION
    timeout: float = DEFAULT_TIMEOUT

    @property
    def endpoint(self) -> str:
        """The GraphQL endpoint for this shop and API version."""
        return f"{self.shop_url}/admin/api/{self.api_version}/graphql.json"

    @property
    def shop(self) -> str:
        """The shop's domain (with port for loopback): what reports name, never the token."""
        return self.shop_url.split("://", 1)[1]

    @classmethod
    def from_options(
        cls,
        *,
        shop: str | None = None,
        token_file: Path | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ConnectionSettings:
        """Command-line options first, then the environment, then defaults."""
        env = os.environ if environ is None else environ
        shop_value = shop or env.get("SHOPIFY_SHOP")
        if not shop_value:
            raise ConfigError(f"no shop: pass --shop or set SHOPIFY_SHOP ({_HINT})")
        if token_file is not None:
            token = _check_token(_read_token_file(Path(token_file)), f"token file {token_file}")
        elif env.get("SHOPIFY_ACCESS_TOKEN"):
            token = _check_token(env["SHOPIFY_ACCESS_TOKEN"].strip(), "SHOPIFY_ACCESS_TOKEN")
        else:
            raise ConfigError("no access token: set SHOPIFY_ACCESS_TOKEN or pass --token-file PATH")
        version = (api_version or env.get("SHOPIFY_API_VERSION") or DEFAULT_API_VERSION).strip()
        if not _API_VERSION.fullmatch(version):
            raise ConfigError(
                f"API version {version!r} is not of the form YYYY-MM (e.g. {DEFAULT_API_VERSION})"
            )
        seconds = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        if not (seconds > 0 and math.isfinite(seconds)):
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        return cls(shop_url=normalise_shop(shop_value), token=token, api_version=version, timeout=seconds)
