"""Browser end-to-end fixtures: a live server per test, Debian's Chromium,
a phone-sized browser context, axe accessibility checks and screenshots."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from intake.accounts.models import User
from intake.accounts.two_factor import code_at
from intake.core.types import utcnow
from intake.extensions import db
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/e2e-shots")
DEFAULT_TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ZH_PO = (
    Path(__file__).resolve().parents[2]
    / "intake"
    / "translations"
    / "zh_Hans"
    / "LC_MESSAGES"
    / "messages.po"
)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # `playwright install` cannot download here: use the system Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Patients use phones: the default context is phone-sized and English.
    # A test can override with @pytest.mark.browser_context_args(viewport=DESKTOP).
    return {
        **browser_context_args,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
        "locale": "en-GB",
        "timezone_id": "Asia/Tokyo",
        "reduced_motion": "reduce",  # no collapse animation: stable screenshots
    }


@pytest.fixture
def context(context):
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)  # expect(...) waits as long as actions
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def live_server(app):
    """Serve the test's app (fresh database) on a free port; yields the base URL.

    The ``app`` fixture keeps an app context pushed in the test thread; each
    request in the server's threads pushes its own app and request contexts.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def assert_accessible(page) -> None:
    """Run axe on the current page; fail on "serious" or "critical" violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    for v in violations:
        if v not in bad:  # shown with `pytest -s` or when the test fails
            print(f"axe ({v.get('impact')}) {v['id']} on {page.url}: {len(v['nodes'])} node(s)")
    if bad:
        lines = [f"axe found {len(bad)} serious/critical violation(s) on {page.url}:"]
        for v in bad:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            for node in v["nodes"][:5]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
        pytest.fail("\n".join(lines), pytrace=False)


def shoot(page, name: str) -> Path:
    """Save a full-page screenshot to /tmp/e2e-shots/<name>.png (kept for humans)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def zh():
    """Chinese translation of an msgid, or None if missing, empty or fuzzy
    (fuzzy entries are not compiled, so the app would show English)."""
    with ZH_PO.open("rb") as f:
        catalog = read_po(f)

    def translate(msgid: str) -> str | None:
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not message.string:
            return None
        return message.string if isinstance(message.string, str) else message.string[0]

    return translate


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the form; staff then type the code their app would show."""
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if page.url.endswith("/login/code"):
        secret = db.session.execute(
            select(User.totp_secret).where(User.email == email)
        ).scalar_one()
        page.locator("#code").fill(code_at(secret, utcnow()))
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def pytest_collection_modifyitems(items):
    """The live server is werkzeug's development server in a thread: when the
    browser drops a connection mid-response (a favicon or stylesheet it no
    longer needs), the server leaves the static file for the garbage collector,
    and the warning lands in whichever test runs then. That is the test
    server's behaviour, not the app's; every other warning still fails."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore:Exception ignored in.*static:pytest.PytestUnraisableExceptionWarning"
                )
            )
