"""The CLI commands of pausing: `flask --app wsgi db recount`, `demo-data`, `resume-due` and
`schedule run`."""
import datetime as dt
import random
import signal

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..changes.log import acting_as
from ..db import migrate
from ..db.commands import db_cli
from ..errors import Conflict
from ..web import tracing
from . import rules, totals
from .models import MentorStatus
from .schedule import Scheduler


@db_cli.command("recount")
def recount_command():
    """Count the list totals, the totals per reason and the counts per day again from the tables
    (after a restore or a bulk load); writes may go on."""
    counted = totals.recount()
    click.echo("list totals recounted: " + ", ".join(f"{name} {value}" for name, value in counted.lists.items()))
    click.echo(f"reason totals recounted: {len(counted.reasons)} reason(s), "
               f"{sum(counted.reasons.values())} pause record(s) with one")

REASONS = ("personal_leave", "certification_expiry", "parental_leave", "illness", "travel", "workload")


@click.command("demo-data")
@click.option("--mentors", default=50, show_default=True, type=click.IntRange(min=1),
              help="How many mentors to create.")
@click.option("--seed", default=None, type=int, help="Random seed, for the same data every time.")
def demo_data_command(mentors, seed):
    """Load demo mentors with realistic statuses and pause histories."""
    migrate()  # a newcomer may run this before the server ever started
    rng = random.Random(seed)
    today = rules.utc_now().replace(hour=0, minute=0, second=0)
    number = MentorStatus.select().count()
    created = pauses = 0
    with acting_as("job:demo-data"):
        while created < mentors:
            number += 1
            try:
                pauses += _create_demo_mentor(rng, f"mentor-{number:04d}", today)
            except Conflict:  # that id is taken: try the next
                continue
            created += 1
    click.echo(f"created {created} mentors and {pauses} pause records")


def _create_demo_mentor(rng, mentor_id, today):
    """One mentor with up to three pauses in the past, perhaps paused now; returns how many pause
    records it got."""
    rules.create_mentor_status({"mentor_id": mentor_id, "status": rng.choices(
        ("active", "inactive"), weights=(85, 15))[0], "metadata": {"cohort": f"2026-{rng.randint(1, 4)}"}})
    history_ends = today - dt.timedelta(days=90)  # before any pause of today's
    start, records = today - dt.timedelta(days=rng.randint(200, 700)), 0
    for _ in range(rng.randint(0, 3)):
        end = start + dt.timedelta(days=rng.randint(7, 60))
        if end > history_ends:
            break
        rules.create_pause_record({"mentor_id": mentor_id, "start_date": start, "end_date": end,
                                     "expected_return_date": end, "reason": rng.choice(REASONS)})
        start, records = end + dt.timedelta(days=rng.randint(10, 90)), records + 1
    if rng.random() < 0.25:  # paused now; some of them overdue
        began = today - dt.timedelta(days=rng.randint(1, 60))
        rules.update_mentor_status(mentor_id, {
            "status": "paused", "pause_start_date": began, "pause_reason": rng.choice(REASONS),
            "expected_return_date": began + dt.timedelta(days=rng.randint(7, 90))})
        records += 1
    return records


@click.command("resume-due")
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
@with_appcontext
def resume_due_command(dry_run):
    """End the pauses whose expected return date has passed; their mentors become active."""
    tracing.start_tracing(current_app.config["TRACING"])
    try:
        with acting_as("job:resume-due"):
            ended = rules.resume_due_pauses(dry_run=dry_run, around_each=tracing.scheduled_moment_span)
    finally:
        tracing.stop_tracing()  # the spans leave before the command exits
    verb = "would resume" if dry_run else "resumed"
    for record in ended:
        click.echo(f"{verb} {record.mentor_id}: {record.pause_record_id} ended at "
                   f"{record.expected_return_date.isoformat()}Z")
    click.echo(f"{len(ended)} pause(s) {'due' if dry_run else 'ended'}")


schedule_cli = AppGroup("schedule", help="Pauses' moments: scheduled starts, ends and notices.")


@schedule_cli.command("run")
@click.option("--once", is_flag=True, help="Apply what is due now, then exit.")
def schedule_run_command(once):
    """Apply pauses' moments as they fall due, until SIGTERM (every web worker does this too)."""
    scheduler = Scheduler.of(current_app._get_current_object())
    if once:
        click.echo(f"applied {scheduler.run_once()} moment(s)")
        return
    signal.signal(signal.SIGTERM, scheduler.stop)
    signal.signal(signal.SIGINT, scheduler.stop)
    scheduler.run()


COMMANDS = (demo_data_command, resume_due_command, schedule_cli)  # and `db recount`, added to the db group above
