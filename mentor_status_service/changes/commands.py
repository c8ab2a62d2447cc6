"""`flask --app wsgi changes prune`: the change log kept to a size."""
import click
from flask.cli import AppGroup

from ..web import idempotency
from .prune import prune

changes_cli = AppGroup("changes", help="The change log.")


@changes_cli.command("prune")
@click.option("--older-than", "days", required=True, type=click.IntRange(min=0), metavar="DAYS",
              help="Delete the entries older than this many days.")
def prune_command(days):
    """Delete old change entries (feed readers still behind them get a 410 and start afresh), and
    every Idempotency-Key past its IDEMPOTENCY_TTL_H."""
    click.echo(f"pruned {prune(days)} change entries older than {days} days")
    click.echo(f"pruned {idempotency.prune_expired()} expired idempotency keys")
