"""Command-line tools: create-user, seed-demo, notifications send."""

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
