"""Which proxy a request goes through, from the usual environment variables.

``HTTPS_PROXY`` for ``https:`` URLs, ``HTTP_PROXY`` for ``http:`` ones, ``ALL_PROXY`` for
both when the specific one is unset (each also in lower case, which wins, as curl and
Python's ``urllib`` read them); ``NO_PROXY`` lists hosts (and their subdomains) to reach
directly, ``*`` for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def _variable(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name.lower()) or environ.get(name.upper()) or "").strip()


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL to use for ``url``, or None to connect directly."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None
    proxy = _variable(environ, f"{scheme}_proxy") or _variable(environ, "all_proxy")
    if not proxy or _bypassed(parts.hostname or "", parts.port, _variable(environ, "no_proxy")):
        return None
    if "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, wanted_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        if wanted_port and str(port) != wanted_port:
            continue
        name = name.strip("[]")
        if "/" in name and _in_network(host, name):
            return True
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def _has_port(entry: str) -> bool:
    head, colon, tail = entry.rpartition(":")
    return bool(colon) and tail.isdigit() and not head.endswith(":")


def _in_network(host: str, network: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
