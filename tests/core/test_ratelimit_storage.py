"""The ``database://`` rate-limit storage: counts, windows that end, reset,
and no hit lost when many threads (or workers) count the same key at once."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from intake.core.ratelimit import PRUNE_EVERY, DatabaseStorage, RateLimitCounter
from intake.extensions import db, limiter


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def storage(app, clock):
    engine = db.engine
    return DatabaseStorage("database://", engine=lambda: engine, clock=clock)


def _rows() -> int:
    return db.session.execute(select(func.count()).select_from(RateLimitCounter)).scalar_one()


def test_the_scheme_is_registered_with_limits(app):
    made = storage_from_string("database://")
    assert isinstance(made, DatabaseStorage)
    assert made.check() is True  # the app's own database answers


def test_increments_count_per_key_and_get_reads_them(storage, clock):
    assert [storage.incr("login/1.2.3.4", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("login/1.2.3.4", 60, amount=2) == 5
    assert storage.incr("login/5.6.7.8", 60) == 1
    assert storage.get("login/1.2.3.4") == 5
    assert storage.get("login/5.6.7.8") == 1
    assert storage.get("never/counted") == 0
    assert storage.get_expiry("login/1.2.3.4") == clock.now + 60
    assert storage.get_expiry("never/counted") == clock.now


def test_keys_longer_than_the_column_are_counted_apart(storage):
    long_a, long_b = "k/" + "a" * 400, "k/" + "a" * 399 + "b"
    assert storage.incr(long_a, 60) == 1
    assert storage.incr(long_a, 60) == 2
    assert storage.incr(long_b, 60) == 1
    assert (storage.get(long_a), storage.get(long_b)) == (2, 1)
    keys = db.session.execute(select(RateLimitCounter.key)).scalars().all()
    assert all(len(k) <= 255 for k in keys) and len(set(keys)) == 2
    storage.clear(long_a)
    assert storage.get(long_a) == 0


def test_a_window_ends_after_its_expiry_and_the_next_starts_at_one(storage, clock):
    start = clock.now
    storage.incr("k", 60)
    clock.now += 30
    assert storage.incr("k", 60) == 2  # the same window: its end does not move
    assert storage.get_expiry("k") == start + 60
    clock.now = start + 60
    assert storage.get("k") == 0
    assert storage.get_expiry("k") == clock.now
    assert storage.incr("k", 60) == 1  # a new window from now
    assert storage.get_expiry("k") == start + 120


def test_the_fixed_window_strategy_refuses_past_the_limit(storage, clock):
    strategy = FixedWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(3)
    assert [strategy.hit(item, "203.0.113.7") for _ in range(5)] == [True] * 3 + [False] * 2
    assert strategy.hit(item, "203.0.113.8") is True  # another client, its own count
    assert strategy.test(item, "203.0.113.7") is False
    stats = strategy.get_window_stats(item, "203.0.113.7")
    assert stats.remaining == 0
    assert stats.reset_time == clock.now + 60


def test_clear_reset_and_prune(storage, clock):
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.incr("short", 1)
    storage.clear("a")
    assert storage.get("a") == 0
    assert _rows() == 3
    clock.now += 2
    assert storage.prune() == 1  # only the window that ended
    assert storage.get("b") == 1
    assert storage.reset() == 2
    assert _rows() == 0


def test_ended_windows_are_deleted_every_so_many_increments(storage, clock):
    storage.incr("old", 1)
    clock.now += 5
    for _ in range(PRUNE_EVERY - 2):
        storage.incr("busy", 60)
    assert _rows() == 2
    storage.incr("busy", 60)  # the PRUNE_EVERY-th
    assert _rows() == 1


def test_concurrent_increments_lose_no_hit(storage):
    """8 threads, each on its own connection, count one key 25 times: every
    answer from 1 to 200 is given exactly once."""
    threads_n, each = 8, 25
    answers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def count():
        try:
            barrier.wait(10)
            got = [storage.incr("race", 60) for _ in range(each)]
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
            return
        with lock:
            answers.extend(got)

    threads = [threading.Thread(target=count) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(answers) == list(range(1, threads_n * each + 1))
    assert storage.get("race") == threads_n * each


def _limited_app(app, **config):
    from intake import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": True,
            **config,
        },
        config_object="config.TestConfig",
    )


def test_the_login_limit_counts_in_the_database(app):
    limited = _limited_app(
        app, RATELIMIT_STORAGE_URI="database://", LOGIN_RATE_LIMIT="3 per minute"
    )
    try:
        assert isinstance(limiter.storage, DatabaseStorage)
        client = limited.test_client()
        codes = []
        for _ in range(4):
            with client.post("/login", data={"email": "a@example.org", "password": "x"}) as r:
                codes.append(r.status_code)
        with limited.app_context():
            keys = db.session.execute(select(RateLimitCounter.key, RateLimitCounter.hits)).all()
    finally:
        with limited.app_context():
            db.engine.dispose()
    assert codes == [200, 200, 200, 429]
    assert len(keys) == 1 and keys[0].hits == 4 and "login" in keys[0].key


def test_production_counts_in_the_database_unless_told_otherwise():
    from config import Config, ProductionConfig

    if "RATELIMIT_STORAGE_URI" in os.environ:
        pytest.skip("RATELIMIT_STORAGE_URI is set in this environment")
    assert ProductionConfig.RATELIMIT_STORAGE_URI == "database://"
    assert Config.RATELIMIT_STORAGE_URI == "memory://"


@pytest.mark.skipif(importlib.util.find_spec("redis") is None, reason="pip install .[redis]")
def test_redis_storage_is_chosen_by_its_uri(app):
    from limits.storage import RedisStorage

    limited = _limited_app(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    with limited.app_context():
        db.engine.dispose()
    assert isinstance(limiter.storage, RedisStorage)


@pytest.mark.skipif(
    importlib.util.find_spec("redis") is None or shutil.which("redis-server") is None,
    reason="needs the redis extra and a redis-server binary",
)
def test_the_login_limit_counts_in_redis(app, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        [
            shutil.which("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        limited = _limited_app(
            app,
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
            LOGIN_RATE_LIMIT="3 per minute",
        )
        for _ in range(50):
            if limiter.storage.check():
                break
            time.sleep(0.1)
        client = limited.test_client()
        codes = []
        for _ in range(4):
            with client.post("/login", data={"email": "a@example.org", "password": "x"}) as r:
                codes.append(r.status_code)
        with limited.app_context():
            db.engine.dispose()
    finally:
        server.terminate()
        server.wait(10)
    assert codes == [200, 200, 200, 429]
