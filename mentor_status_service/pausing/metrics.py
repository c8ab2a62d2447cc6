"""The series of /metrics that pausing adds: mentors by status and pause records by state, read from
the list totals when scraped."""
from peewee import DatabaseError
from prometheus_client.metrics_core import GaugeMetricFamily

from ..db import DATABASE_ERRORS, discard_connection
from . import totals


class ListTotalsCollector:
    """Mentors by status and pause records by state, read from the list totals row when scraped."""

    def collect(self):
        try:
            counts = totals.read()
        except totals.MissingListTotals:
            return
        except (DatabaseError, *DATABASE_ERRORS):  # the 503 counter tells of an outage; the rest still answers
            discard_connection()
            return
        mentors = GaugeMetricFamily("mentor_status_mentors", "Mentors by status.", labels=("status",))
        # A mentor is paused exactly while it has an active pause record.
        for status, count in (("active", counts["mentors_active"]), ("paused", counts["pauses_active"]),
                              ("inactive", counts["mentors_inactive"])):
            mentors.add_metric((status,), count)
        pauses = GaugeMetricFamily("mentor_status_pause_records", "Pause records by state.", labels=("state",))
        for state, count in (("scheduled", counts["pauses_scheduled"]), ("active", counts["pauses_active"]),
                             ("ended", counts["pauses_ended"])):
            pauses.add_metric((state,), count)
        yield mentors
        yield pauses
