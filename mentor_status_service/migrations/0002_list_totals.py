"""Exact list totals, kept by every write, so that a list page never counts a whole table."""
from mentor_status_service.models import ListTotals


def up(migrator, db):
    db.execute_sql("CREATE TABLE list_totals (id INTEGER NOT NULL PRIMARY KEY, mentors_active BIGINT NOT NULL, "
                   "mentors_inactive BIGINT NOT NULL, pauses_active BIGINT NOT NULL, pauses_ended BIGINT NOT NULL)")
    ListTotals.recount(db)


def down(migrator, db):
    db.execute_sql("DROP TABLE list_totals")
