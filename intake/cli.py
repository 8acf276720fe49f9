"""Command-line tools: create-user, seed-demo, notifications send, export fhir."""

from __future__ import annotations

import click
from flask import current_app

from intake.accounts.roles import STAFF_ROLES, Role
from intake.core.errors import DomainError
from intake.core.languages import LANGUAGES
from intake.extensions import db


def register(app) -> None:
    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in STAFF_ROLES]), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--locale", default="en", type=click.Choice(LANGUAGES))
    def create_user(email, full_name, role, password, locale):
        """Create a staff account; they must change the password at first login."""
        from intake.accounts.services import create_staff

        try:
            user = create_staff(
                actor=None,
                email=email,
                full_name=full_name,
                role=Role(role),
                password=password,
                locale=locale,
            )
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        db.session.commit()
        click.echo(f"Created {user.role.value} account {user.email} (id {user.id}).")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Demo accounts and data (idempotent)."""
        from intake.demo import seed

        for line in seed():
            click.echo(line)

    @app.cli.group("notifications")
    def notifications():
        """The outbox."""

    @notifications.command("send")
    @click.option("--limit", default=200, show_default=True)
    def send(limit):
        """Deliver pending messages (SMTP when configured, else print them)."""
        from intake.notifications.delivery import send_pending

        sent, failed = send_pending(current_app.config, echo=click.echo, limit=limit)
        click.echo(f"Sent {sent}, failed {failed}.")

    @app.cli.group("scheduling")
    def scheduling():
        """Bookings."""

    @scheduling.command("remind")
    def remind():
        """Queue a reminder for each visit in the next 24 hours, once each (run hourly)."""
        from intake.scheduling.reminders import send_reminders

        queued = send_reminders()
        db.session.commit()
        click.echo(f"Queued {queued} reminder(s); `flask notifications send` delivers them.")

    @scheduling.command("waitlist-offers")
    def waitlist_offers():
        """End waitlist offers whose time to accept is over and offer each free
        collection day to the next patients waiting (run every 15 minutes)."""
        from intake.scheduling.waitlist_services import offer_freed_places

        made = offer_freed_places()
        db.session.commit()
        click.echo(f"Offered {len(made)} day(s); `flask notifications send` delivers the messages.")

    @app.cli.command("send-follow-ups")
    def send_follow_ups():
        """Schedule missing follow-up contacts and invite each patient whose
        contact is due to answer its questions, once each (run daily)."""
        from intake.reinfusion.aftercare_services import (
            schedule_missing_follow_ups,
            send_follow_up_invitations,
        )

        made = schedule_missing_follow_ups()
        sent = send_follow_up_invitations()
        db.session.commit()
        click.echo(
            f"{made} follow-up contact(s) scheduled, {sent} invitation(s) queued;"
            " `flask notifications send` delivers them."
        )

    register_backup(app)
    register_export(app)


def register_export(app) -> None:
    """``flask export fhir --course N``."""

    @app.cli.group("export")
    def export():
        """Records in standard formats."""

    @export.command("fhir")
    @click.option("--course", "course_id", type=int, required=True, help="The course's id.")
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help="File to write (default: standard output).",
    )
    def fhir(course_id, out):
        """One course as a FHIR R4 Bundle (JSON), recorded in the audit trail."""
        from intake.core.types import utcnow
        from intake.fhir import services as fhir_services
        from intake.patients.models import Course

        course = db.session.get(Course, course_id)
        if course is None:
            raise click.ClickException(f"There is no course {course_id}.")
        bundle = fhir_services.export_course(
            course, actor=None, now=utcnow(), channel="command line"
        )
        text = fhir_services.as_json(bundle)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            click.echo(text)
        db.session.commit()
        if out:
            click.echo(f"{len(bundle['entry'])} resources written to {out}.", err=True)


def register_backup(app) -> None:
    """``flask backup`` and ``flask restore`` (see README, Backups)."""
    from intake.core.backup_policy import DEFAULT_KEEP_DAYS, DEFAULT_KEEP_YEARS

    @app.cli.command("backup")
    @click.option(
        "--to",
        "directory",
        type=click.Path(file_okay=False),
        default=None,
        help="Folder for the backup (default: BACKUP_DIR, else instance/backups).",
    )
    @click.option(
        "--prune",
        is_flag=True,
        help="Afterwards delete backups the retention policy no longer keeps.",
    )
    @click.option(
        "--keep-days",
        default=DEFAULT_KEEP_DAYS,
        type=click.IntRange(min=0),
        show_default=True,
        help="With --prune: keep every backup of this many days.",
    )
    @click.option(
        "--keep-years",
        default=DEFAULT_KEEP_YEARS,
        type=click.IntRange(min=0),
        show_default=True,
        help="With --prune: keep the first backup of each month for this many years.",
    )
    def backup(directory, prune, keep_days, keep_years):
        """Back the database up to a timestamped, verified file with a .sha256."""
        from intake.core.backup import BackupError, backup_database, prune_backups

        try:
            made = backup_database(directory)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backup written: {made.path} ({made.size:,} bytes)")
        click.echo(f"SHA-256 {made.sha256} in {made.path.name}.sha256")
        if prune:
            deleted = prune_backups(made.path.parent, keep_days=keep_days, keep_years=keep_years)
            for path in deleted:
                click.echo(f"Pruned {path}")
            click.echo(f"Pruned {len(deleted)} old backup(s).")

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @click.option(
        "--no-safety-backup", is_flag=True, help="Do not back the current database up first."
    )
    def restore(file, yes, no_safety_backup):
        """Replace the database's content with a backup (checksum verified first)."""
        from intake.core.backup import BackupError, restore_database, verify_backup

        try:
            verify_backup(file)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{file}: checksum and content verified.")
        if not yes:
            click.confirm(
                f"Replace ALL data in {db.engine.url.render_as_string(hide_password=True)}"
                f" with {file}?",
                abort=True,
            )
        try:
            result = restore_database(file, safety_backup=not no_safety_backup)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        if result.safety_backup is not None:
            click.echo(f"The database as it was is saved in {result.safety_backup.path}")
        click.echo(f"Restored from {result.path}.")
        click.echo(result.revision.message)
