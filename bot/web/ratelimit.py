"""How often one client may POST our forms: a sliding one-minute window per client address.

The counts live in this process's memory, which is right for one `madeinla serve`. Behind several
server processes each counts on its own (the limit is then per process); a shared limit would
belong in the proxy in front of them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import Request

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 50_000  # above this the least recently seen clients are forgotten


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        self.per_minute = per_minute  # requests per window (a minute unless `window_seconds` says)
        self._window = window_seconds
        self._clock = clock
        self._max_clients = max_clients
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def hit(self, client: str) -> int | None:
        """Count one request. None if allowed; else the whole seconds until one is allowed."""
        if not self.enabled:
            return None
        now = self._clock()
        hits = self._hits.get(client)
        if hits is None:
            hits = self._hits[client] = deque()
            if len(self._hits) > self._max_clients:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(client)
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(1, math.ceil(hits[0] + self._window - now))
        hits.append(now)
        return None


def client_address(request: Request, trusted_proxy_hops: int = 0) -> str:
    """The client's IP: the socket peer, or, behind N trusted proxies, the Nth address from the
    right of X-Forwarded-For (the ones further left are whatever the client claimed)."""
    if trusted_proxy_hops > 0:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= trusted_proxy_hops:
            return forwarded[-trusted_proxy_hops][:64]
    return request.client.host if request.client else "unknown"
