"""Profile: CPU per request of the key pages at clinic-group scale.

Builds the pipeline benchmark's clinic (scripts/bench_pipeline.py) with
``--courses`` courses, adds a signed review decision for every approved
course, an outbox of ``--messages`` messages (nearly all sent, as in a clinic
in use), ``--audits`` audit entries, a doctor, a lab user and a patient with a
login; then requests each page in-process (real views and templates) and
prints the median and lowest CPU time, the Python function calls of one
request (steady on a busy machine) and the statements, beside a hello-world
view on the same app (no template, no login).

    PYTHONPATH=. .venv/bin/python scripts/profile_pages.py --keep /tmp/big.db
    PYTHONPATH=. .venv/bin/python scripts/profile_pages.py --reuse /tmp/big.db --profile /reviews

``--keep PATH`` saves the built database; ``--reuse PATH`` starts from a copy of
one (the original is never written), adding any index the models have since
gained. ``--profile URL`` prints that page's cProfile (cumulative and own time).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
from datetime import UTC, date, datetime, timedelta

from bench_pipeline import PASSWORD, build
from benchlib import bench_app, logged_in, time_page

PAGES = (
    ("patient@bench.example", "/me", b"<main"),
    ("patient@bench.example", "/journey", b"<main"),
    ("doctor@bench.example", "/reviews", b"<main"),
    ("doctor@bench.example", "/worklist", b"<main"),
    ("lab@bench.example", "/lab", b"<main"),
    ("lab@bench.example", "/lab/batches/1", b"<main"),
    ("manager@bench.example", "/manager", b"<main"),
    ("manager@bench.example", "/manager/pipeline", b"<main"),
    ("manager@bench.example", "/messages/", b"<main"),
)

#: The big clinic built by the benchmark seed (its README lists the logins).
BIG_PAGES = (
    ("demo.patient16@demo.clinic", "Sakura-Demo-26", "/me"),
    ("demo.patient16@demo.clinic", "Sakura-Demo-26", "/journey"),
    ("doctor@demo.clinic", "Sakura-Dr-26", "/reviews"),
    ("doctor@demo.clinic", "Sakura-Dr-26", "/worklist"),
    ("lab@demo.clinic", "Sakura-Cpc-26", "/lab"),
    ("lab@demo.clinic", "Sakura-Cpc-26", "/lab/batches/4784"),
    ("manager@demo.clinic", "Sakura-Mgr-26", "/manager"),
    ("manager@demo.clinic", "Sakura-Mgr-26", "/manager/pipeline"),
    ("manager@demo.clinic", "Sakura-Mgr-26", "/messages/"),
)


def extra(messages: int, audits: int) -> None:
    from sqlalchemy import insert, select

    from intake.accounts.roles import Role
    from intake.accounts.services import create_staff, register_patient
    from intake.core.models import AuditEntry
    from intake.eligibility.models import Decision, Questionnaire, QuestionnaireStatus, Review
    from intake.extensions import db
    from intake.notifications.models import DeliveryStatus, Message

    for email, role in (("doctor@bench.example", Role.DOCTOR), ("lab@bench.example", Role.LAB)):
        user = create_staff(
            actor=None, email=email, full_name=email, role=role, password=PASSWORD, locale="en"
        )
        user.is_password_temporary = False
    patient_user = register_patient(
        email="patient@bench.example",
        password=PASSWORD,
        date_of_birth=date(1980, 5, 5),
        phone="+81 90 1234 5678",
        locale="en",
        family_name="Bench",
        given_name="Own",
    )
    patient_user.email_verified_at = datetime.now(UTC)
    db.session.flush()
    now = datetime.now(UTC)
    approved = db.session.execute(
        select(Questionnaire.id, Questionnaire.patient_id, Questionnaire.course_id).where(
            Questionnaire.status == QuestionnaireStatus.APPROVED
        )
    ).all()
    reviews = [
        {
            "questionnaire_id": q,
            "patient_id": p,
            "course_id": c,
            "decision": Decision.APPROVED,
            "signed_at": now - timedelta(minutes=n),
            "signer_name": "Dr Bench",
            "created_at": now,
            "updated_at": now,
            "is_override": False,
        }
        for n, (q, p, c) in enumerate(approved)
    ]
    if reviews:
        db.session.execute(insert(Review), reviews)
    db.session.execute(
        insert(Message),
        [
            {
                "user_id": patient_user.id if n % 50 == 0 else None,
                "patient_id": None,
                "template": "bench",
                "locale": "en",
                "to_address": "x@bench.example",
                "subject": "s",
                "body": "b",
                # A clinic in use: nearly every message sent, a few waiting or failed.
                "status": DeliveryStatus.FAILED
                if n % 200 == 0
                else DeliveryStatus.PENDING
                if n % 50 == 0
                else DeliveryStatus.SENT,
                "attempts": 0,
                "created_at": now,
            }
            for n in range(messages)
        ],
    )
    db.session.execute(
        insert(AuditEntry),
        [
            {
                "created_at": now,
                "actor_label": "bench",
                "action": "patients.create",
                "entity_type": "patients",
                "entity_id": str(n),
            }
            for n in range(audits)
        ],
    )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=50000)
    parser.add_argument("--audits", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", action="append", default=[])
    parser.add_argument("--keep", help="copy the built database here")
    parser.add_argument("--reuse", help="start from this database (built before by --keep)")
    parser.add_argument("--big", action="store_true", help="--reuse is the big clinic's database")
    parser.add_argument("--only", action="append", default=[], help="measure only these pages")
    args = parser.parse_args()

    with bench_app() as app:
        from intake.extensions import db

        if args.reuse:
            db.engine.dispose()
            target = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
            shutil.copy(args.reuse, target)
            for table in db.metadata.sorted_tables:  # indexes added since it was built
                for index in table.indexes:
                    index.create(db.engine, checkfirst=True)
        else:
            build(args.courses)
            extra(args.messages, args.audits)
            if args.keep:
                db.engine.dispose()
                target = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
                shutil.copy(target, args.keep)

        @app.get("/__hello")
        def _hello():
            return "Hello, World!"

        clients = {}
        pages = [(e, PASSWORD, u) for e, u, _m in PAGES] if not args.big else BIG_PAGES
        if args.only:
            pages = [page for page in pages if page[2] in args.only]
        passwords = {e: p for e, p, _u in pages}

        def client_for(email):
            if email not in clients:
                clients[email] = logged_in(app, email, passwords[email])
            return clients[email]

        def calls(client, url):
            """Python function calls of one request: steadier than time on a busy machine."""
            profiler = cProfile.Profile()
            profiler.enable()
            with client.get(url) as response:
                response.get_data()
            profiler.disable()
            return pstats.Stats(profiler).total_calls

        hello_client = app.test_client()
        hello = time_page(hello_client, "/__hello", args.runs, b"Hello")
        print("| page | median CPU ms | min CPU ms | × hello (median) | calls | statements |")
        print("|---|---|---|---|---|---|")
        print(
            f"| hello world | {hello.median_cpu:.2f} | {hello.cpu[0]:.2f} | 1.0 "
            f"| {calls(hello_client, '/__hello')} | 0 |"
        )
        for email, _password, url in pages:
            t = time_page(client_for(email), url, args.runs, b"<main")
            print(
                f"| `{url}` | {t.median_cpu:.2f} | {t.cpu[0]:.2f} "
                f"| {t.median_cpu / hello.median_cpu:.1f} "
                f"| {calls(client_for(email), url)} | {t.statements} |"
            )
        for url in args.profile:
            email = next(e for e, _p, u in pages if u == url)
            client = client_for(email)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.runs):
                with client.get(url) as response:
                    response.get_data()
            profiler.disable()
            print(f"\n==== {url} ({args.runs} requests)")
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
