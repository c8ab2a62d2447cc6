"""`flask --app wsgi db upgrade|status`: the schema's migrations."""
import click
from flask.cli import AppGroup

from .migrate import migrate, migration_status

db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
def upgrade_command():
    """Apply pending migrations."""
    applied = migrate()
    click.echo("\n".join(f"applied {name}" for name in applied) or "schema is up to date")


@db_cli.command("status")
def status_command():
    """List migrations and when each was applied."""
    for migration in migration_status():
        applied = migration.applied.isoformat(sep=" ", timespec="seconds") if migration.applied else "pending"
        click.echo(f"{migration.name}  {applied}")
