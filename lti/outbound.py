"""The one HTTP client for every request the tool sends (registration, key sets, tokens, AGS, NRPS).

The URLs it is asked to fetch come from outside: a dynamic registration names a configuration URL and
the configuration names endpoints; launches carry line item and roster URLs. So every request is vetted:

- http(s) only, no user:password@ in the URL; https unless the tool runs in loopback development mode;
- the host is resolved here and every address it resolves to must be public (not private, loopback,
  link-local, multicast, reserved, shared, unspecified — also not inside an IPv6 form that embeds such an
  IPv4 address); in loopback development mode loopback addresses are allowed too, nothing else private;
  private networks an administrator names (COURSE_LTI_ALLOW_NETWORKS, for an intranet platform) are allowed;
- the connection goes to the address that was vetted (the name is not resolved a second time, so a DNS
  answer that changes in between cannot redirect it), and the socket's peer is checked once more; TLS
  still verifies the certificate for the host name (SNI and Host header keep the name);
- no proxy from the environment (it would connect for us, to addresses we never saw), no redirects;
- answers are read up to a size limit, the whole exchange within a time limit.

A refused or failed request raises OutboundError, whose text names no address, port or socket error
(it may reach a browser or a teacher's page); the detail goes to the server log.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

log = logging.getLogger("lti.outbound")

NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(httpx.HTTPError):
    """A request refused by the policy or failed on the way; str() is safe to show, `detail` is for the log."""

    def __init__(self, public: str, detail: str = ""):
        super().__init__(public)
        self.detail = detail or public


@dataclass(frozen=True)
class OutboundPolicy:
    allow_loopback: bool = False  # loopback development mode: loopback targets and plain http allowed
    # Private networks an administrator allows (a platform in the same intranet), e.g. 10.20.0.0/16.
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    timeout: float = 5.0  # seconds for connecting and for each read
    max_seconds: float = 20.0  # the whole exchange, answer included
    max_bytes: int = 4 * 1024 * 1024  # a roster page of a large course is a few hundred KB

    @classmethod
    def from_settings(cls, settings) -> "OutboundPolicy":
        return cls(allow_loopback=settings.loopback_dev, allowed_networks=networks(settings.allow_networks),
                   timeout=settings.http_timeout, max_seconds=settings.http_max_seconds,
                   max_bytes=settings.http_max_bytes)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4, NAT64 or Teredo address reaches."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo:
        return ip.teredo[1]
    return None


def networks(text: str) -> tuple:
    """'10.20.0.0/16, fd00::/8' → networks; ValueError naming a bad entry."""
    found = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not a network (e.g. 10.20.0.0/16)") from None
    return tuple(found)


def address_kind(address: str) -> str:
    """'public', 'loopback' or 'forbidden' (private, link-local, multicast, reserved, shared, unspecified)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_kind(str(inner))
    if ip.is_loopback:
        return "loopback"
    if ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_link_local):
        return "public"
    return "forbidden"


def check_url(url: str, policy: OutboundPolicy) -> None:
    """What can be said about a URL without the network: scheme, userinfo, https, a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise OutboundError("the URL is not valid", f"unparsable URL {url!r}") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundError("the URL must use https", f"scheme {parts.scheme!r} refused in {url!r}")
    if "@" in parts.netloc:
        raise OutboundError("the URL must not contain a user name or password", f"userinfo refused in {url!r}")
    if not parts.hostname:
        raise OutboundError("the URL names no host", f"no host in {url!r}")
    if parts.scheme != "https" and not policy.allow_loopback:
        raise OutboundError("the URL must use https", f"plain http outside loopback development mode: {url!r}")


# Name resolution has no timeout of its own: it runs here and is waited for at most the connect timeout.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="lti-resolve")


def vetted_addresses(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Every address the host resolves to, if all of them are allowed; OutboundError otherwise."""
    try:
        infos = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(
            timeout=min(policy.timeout, 3.0))
    except concurrent.futures.TimeoutError:
        raise OutboundError("the server could not be reached", f"resolving {host!r} took too long") from None
    except (OSError, UnicodeError) as exc:
        raise OutboundError("the server could not be reached", f"cannot resolve {host!r}: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    allowed = {"public", "loopback"} if policy.allow_loopback else {"public"}
    refused = [a for a in addresses if address_kind(a) not in allowed and not in_allowed_network(a, policy)]
    if refused or not addresses:
        raise OutboundError("the server's address is not allowed for requests from this tool",
                            f"{host!r} resolves to {', '.join(refused) or 'nothing'}: refused by the outbound policy")
    return addresses


def in_allowed_network(address: str, policy: OutboundPolicy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip.version == network.version and ip in network for network in policy.allowed_networks)


class _VettingBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to vetted addresses of the host it is asked for."""

    def __init__(self, policy: OutboundPolicy):
        self.policy, self.inner = policy, httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in vetted_addresses(host, port, self.policy):
            try:
                stream = self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            peer = stream.get_extra_info("socket").getpeername()[0]
            if ipaddress.ip_address(peer.split("%", 1)[0]) != ipaddress.ip_address(address.split("%", 1)[0]):
                stream.close()
                raise OutboundError("the server's address is not allowed for requests from this tool",
                                    f"connected to {peer} instead of the vetted {address}")
            return stream
        raise last or httpcore.ConnectError(f"no address for {host!r}")

    def connect_unix_socket(self, *args, **kwargs):
        raise OutboundError("the URL is not valid", "unix sockets are never used for outbound requests")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _VettingTransport(httpx.HTTPTransport):
    def __init__(self, policy: OutboundPolicy):
        super().__init__(trust_env=False, retries=0)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=_VettingBackend(policy), retries=0,
                                             max_connections=20, max_keepalive_connections=10, keepalive_expiry=30)


class OutboundClient:
    """get/post/request like httpx.Client, vetted and bounded (see the module's docstring)."""

    def __init__(self, policy: OutboundPolicy):
        self.policy = policy
        self._client = httpx.Client(transport=_VettingTransport(policy), trust_env=False, follow_redirects=False,
                                    timeout=httpx.Timeout(policy.timeout, connect=min(policy.timeout, 3.0)),
                                    headers={"User-Agent": "course_builder-lti/1", "Accept-Encoding": "identity"})

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """The whole answer, read; OutboundError if refused, unreachable, too large or too slow."""
        kwargs.pop("follow_redirects", None)  # never: a redirect could lead anywhere
        try:
            check_url(url, self.policy)
            return self._bounded(method, url, **kwargs)
        except OutboundError as exc:
            log.warning("outbound %s %s refused or failed: %s", method, url, exc.detail)
            raise
        except httpx.HTTPError as exc:
            log.warning("outbound %s %s failed: %r", method, url, exc)
            raise OutboundError("the server could not be reached", repr(exc)) from None

    def _bounded(self, method: str, url: str, **kwargs) -> httpx.Response:
        deadline = time.monotonic() + self.policy.max_seconds
        request = self._client.build_request(method, url, **kwargs)
        response = self._client.send(request, stream=True, follow_redirects=False)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.policy.max_bytes:
                    raise OutboundError("the server's answer is too large",
                                        f"answer over {self.policy.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise OutboundError("the server answered too slowly",
                                        f"answer not complete within {self.policy.max_seconds} s")
        finally:
            response.close()
        # A finished response: the body is decoded already, so the encoding headers no longer apply.
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=request,
                              extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")})

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def json_object(self, method: str, url: str, **kwargs) -> dict:
        """The JSON object a 2xx answer carries; OutboundError (safe text) for anything else."""
        response = self.request(method, url, **kwargs)
        if not 200 <= response.status_code < 300:
            log.warning("outbound %s %s answered %s: %s", method, url, response.status_code, response.text[:300])
            raise OutboundError(f"the server answered with HTTP status {response.status_code}")
        try:
            value = response.json()
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise OutboundError("the server's answer is not a JSON object")
        return value

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "OutboundClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
