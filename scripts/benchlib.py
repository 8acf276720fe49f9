"""What the in-process page benchmarks share: a throw-away app on a SQLite
file (WAL, as in production), a logged-in test client, a counter of the SQL
statements a request sends, and the timing loop (wall and CPU time; SQLite
runs in-process, so the CPU time includes the database's work)."""

from __future__ import annotations

import contextlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_NOT_COUNTED = re.compile(r"\s*(SAVEPOINT|RELEASE|PRAGMA)")


@contextlib.contextmanager
def bench_app() -> Iterator:
    """The app on a fresh SQLite file, inside its application context."""
    from intake import create_app
    from intake.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            },
            config_object="config.TestConfig",
        )
        with app.app_context():
            try:
                yield app
            finally:
                db.engine.dispose()


def logged_in(app, email: str, password: str):
    """A test client logged in as ``email``."""
    client = app.test_client()
    with client.post("/login", data={"email": email, "password": password}) as response:
        assert response.status_code == 302, response.status_code
    return client


class StatementCounter:
    """The statements sent while listening (savepoints and pragmas left out)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _before(self, conn, cursor, statement, *rest) -> None:
        if not _NOT_COUNTED.match(statement):
            self.statements.append(statement)

    @contextlib.contextmanager
    def listening(self) -> Iterator[StatementCounter]:
        from sqlalchemy import event

        from intake.extensions import db

        event.listen(db.engine, "before_cursor_execute", self._before)
        try:
            yield self
        finally:
            event.remove(db.engine, "before_cursor_execute", self._before)


@dataclass
class Timing:
    wall: list[float]  # ms, sorted
    cpu: list[float]  # ms, sorted
    statements: int  # the most any one request sent

    @property
    def median_wall(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def p90_wall(self) -> float:
        return self.wall[max(0, int(len(self.wall) * 0.9) - 1)]


def time_page(client, url: str, runs: int, marker: bytes) -> Timing:
    """``runs`` requests of ``url`` after a warm-up (templates compiled, caches
    filled), each checked for ``marker``, with their statements counted."""
    with client.get(url) as response:
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu, counts = [], [], []
    counter = StatementCounter()
    with counter.listening():
        for _ in range(runs):
            counter.statements.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            with client.get(url) as response:
                body = response.get_data()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            counts.append(len(counter.statements))
            assert response.status_code == 200 and marker in body, url
    return Timing(sorted(wall), sorted(cpu), max(counts))
