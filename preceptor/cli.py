"""Command-line tools: `flask --app preceptor create-user`, `seed-demo`, `seed-scale`, `surveys open-due`,
`backup`, `notifications send|digest` and `reminders run`."""

import click
from flask import Flask

from .extensions import db
from .models import Role, User


@click.command("create-user")
@click.option("--email", prompt=True, help="Email address; the sign-in name.")
@click.option("--name", prompt="Full name", help="Full name as colleagues know it.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="A role; repeat for several.")
@click.option("--hcpc", default=None, help="HCPC registration number, RA followed by numbers.")
@click.password_option(help="Asked for when not given; never echoed.")
def create_user_command(email: str, name: str, roles: tuple[str, ...], hcpc: str | None, password: str) -> None:
    """Create a person who can sign in."""
    from .models.people import HCPC_NUMBER
    from .services import accounts, audit
    from .services.passwords import password_problem

    hcpc = hcpc.strip().upper() if hcpc else None
    if hcpc and not HCPC_NUMBER.match(hcpc):
        raise click.BadParameter("an HCPC number is RA followed by numbers, like RA123456", param_hint="--hcpc")
    if "@" not in email or len(email) > 254 or not name.strip() or len(name) > 120:
        raise click.ClickException("give an email address (up to 254 characters) and a name (up to 120)")
    if accounts.email_taken(email):
        raise click.ClickException(f"a user with the email {User.normalise_email(email)} already exists")
    if problem := password_problem(password):
        raise click.ClickException(problem)
    user = accounts.create_user(email, name, [Role(r) for r in roles], password=password, hcpc_number=hcpc)
    audit.record("user.create", user, details={"roles": sorted(roles), "via": "cli"})
    db.session.commit()
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(roles))}.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Build the demo trust (idempotent: running it again adds nothing)."""
    from .demo import DEMO_ACCOUNTS, seed_demo

    summary = seed_demo()
    db.session.commit()
    click.echo(summary)
    click.echo("Demo sign-ins (shared password printed below):")
    for email, role in DEMO_ACCOUNTS:
        click.echo(f"  {role.label:<15} {email}")
    from .demo import demo_password

    click.echo(f"  password: {demo_password()}")


@click.command("seed-scale")
@click.option("--seed", default=2026, show_default=True, help="The same seed gives the same trust.")
@click.option("--scale", default=1.0, show_default=True, help="Multiplies every count (0.05: a small trust).")
def seed_scale_command(seed: int, scale: float) -> None:
    """Fill an empty, migrated database with a large generated trust (for benchmarks)."""
    from .database import refresh_statistics
    from .scale import SCALE_PASSWORD, ScaleRefused, generate

    if scale <= 0:
        raise click.BadParameter("give a scale above 0", param_hint="--scale")
    try:
        summary = generate(seed=seed, scale=scale)
    except ScaleRefused as refused:
        raise click.ClickException(str(refused)) from None
    refresh_statistics()  # for the new rows, before anyone measures
    for table, count in summary.counts.items():
        click.echo(f"  {table:<28} {count:>9,}")
    click.echo(f"Generated in {summary.seconds:.1f} s (seed {seed}, scale {scale}). Sign in as:")
    for role, email in summary.accounts.items():
        click.echo(f"  {role:<15} {email}")
    click.echo(f"  password: {SCALE_PASSWORD}")


@click.group("surveys")
def surveys_group() -> None:
    """Newly-qualified survey waves."""


@surveys_group.command("open-due")
def open_due_command() -> None:
    """Open every survey wave due today. Idempotent: run it hourly from cron, on any server."""
    from .services.survey_waves import open_due

    click.echo(f"{open_due()} survey invitations opened.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str) -> None:
    """Copy the SQLite database to PATH while the portal runs (on PostgreSQL, use pg_dump)."""
    from .backup import BackupRefused, backup

    try:
        written, size = backup(path)
    except BackupRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Backed up to {written} ({size:,} bytes).")


@click.group("notifications")
def notifications_group() -> None:
    """Emails in the outbox."""


@notifications_group.command("send")
@click.option("--loop", is_flag=True, help="Keep running, sending what falls due (a worker).")
@click.option("--interval", default=30, show_default=True, help="Seconds between rounds with --loop.")
@click.option("--limit", default=1000, show_default=True, help="Messages sent at most per round.")
def send_command(loop: bool, interval: int, limit: int) -> None:
    """Send the outbox's due messages, once (for cron) or in a loop. Safe to run on several
    servers at once: each message is sent at most once."""
    import time

    from flask import current_app

    from .mail import transport_for
    from .services.outbox import send_due

    transport = transport_for(current_app)
    while True:
        try:
            click.echo(f"Outbox: {send_due(transport, limit=limit)}.")
        except Exception:  # a worker outlives a database restart: log it, wait, go on
            if not loop:
                raise
            current_app.logger.exception("notifications send: this round failed; trying again in %s s", interval)
        if not loop:
            break
        db.session.remove()
        time.sleep(interval)


@notifications_group.command("digest")
def digest_command() -> None:
    """Write each person's daily digest into the outbox (run once a day, before `send`)."""
    from .services.digests import compose_digests

    written = compose_digests()
    db.session.commit()
    click.echo(f"{written} digests written to the outbox.")


@click.group("reminders")
def reminders_group() -> None:
    """Reminders about work that is due or waiting."""


@reminders_group.command("run")
def reminders_run_command() -> None:
    """Create today's reminders (run daily from cron). Idempotent: a second run the same day
    adds nothing."""
    from .services.reminders import run_reminders

    counts = run_reminders()
    db.session.commit()
    click.echo("Reminders made: " + ", ".join(f"{kind} {count}" for kind, count in counts.items()) + ".")


def init_app(app: Flask) -> None:
    app.cli.add_command(notifications_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_scale_command)
    app.cli.add_command(surveys_group)
    app.cli.add_command(backup_command)
