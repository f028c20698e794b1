"""bot.web.ratelimit: a sliding one-minute window per client, and which address counts as the client."""

from __future__ import annotations

from starlette.requests import Request

from bot.web.ratelimit import RateLimiter, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_allows_n_a_minute_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.hit("a") == 40  # the oldest hit leaves the window in 40 s
    assert limiter.hit("b") is None  # other clients are counted apart
    clock.now += 40
    assert limiter.hit("a") is None


def test_window_slides_rather_than_resetting() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    limiter.hit("a")
    clock.now += 30
    limiter.hit("a")
    clock.now += 31  # the first hit has left the window, the second has not
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_zero_turns_the_limit_off() -> None:
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.hit("a") is None for _ in range(1000))


def test_memory_is_bounded_by_forgetting_the_least_recent_client() -> None:
    limiter = RateLimiter(1, max_clients=2, clock=Clock())
    limiter.hit("a")
    limiter.hit("b")
    limiter.hit("c")  # "a" is forgotten
    assert limiter.hit("a") is None
    assert limiter.hit("c") is not None


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


def test_client_is_the_socket_peer_unless_proxies_are_trusted() -> None:
    assert client_address(request_from("10.0.0.1", "1.2.3.4")) == "10.0.0.1"
    assert client_address(request_from("10.0.0.1", "6.6.6.6, 1.2.3.4"), trusted_proxy_hops=1) == "1.2.3.4"
    assert (
        client_address(request_from("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.9"), trusted_proxy_hops=2)
        == "1.2.3.4"
    )
    assert client_address(request_from("10.0.0.1"), trusted_proxy_hops=1) == "10.0.0.1"
