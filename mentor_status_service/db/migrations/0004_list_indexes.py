"""Active pauses by mentor with their expected return date, so that a page of overdue mentors, of
mentors expected back before a date, or of every mentor not overdue reads its ids from one ordered
index-only scan, and its count from `pause_record_active_expected_return` (see queries.py)."""


def up(migrator, db):
    db.execute_sql("CREATE INDEX pause_record_active_mentor_expected_return ON pause_record "
                   "(mentor_id, expected_return_date) WHERE end_date IS NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX pause_record_active_mentor_expected_return")
