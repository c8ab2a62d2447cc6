"""Exact list totals, kept by every write, so that a list page never counts a whole table."""
from mentor_status_service.models import ListTotal


def up(migrator, db):
    db.execute_sql("CREATE TABLE list_total (name VARCHAR(32) NOT NULL PRIMARY KEY, total BIGINT NOT NULL)")
    ListTotal.recount(db)


def down(migrator, db):
    db.execute_sql("DROP TABLE list_total")
