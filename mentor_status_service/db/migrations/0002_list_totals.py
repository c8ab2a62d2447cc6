"""Exact list totals in one row, kept by every write, so that a list page never counts a table."""

UNPAUSED_MENTORS = ("SELECT COUNT(*) FROM mentor_status m WHERE base_status = '{}' AND NOT EXISTS "
                    "(SELECT 1 FROM pause_record p WHERE p.mentor_id = m.mentor_id AND p.end_date IS NULL)")


def up(migrator, db):
    db.execute_sql("CREATE TABLE list_totals (id INTEGER NOT NULL PRIMARY KEY, mentors_active BIGINT NOT NULL, "
                   "mentors_inactive BIGINT NOT NULL, pauses_active BIGINT NOT NULL, pauses_ended BIGINT NOT NULL)")
    db.execute_sql(
        "INSERT INTO list_totals (id, mentors_active, mentors_inactive, pauses_active, pauses_ended) SELECT 1, "
        f"({UNPAUSED_MENTORS.format('active')}), ({UNPAUSED_MENTORS.format('inactive')}), "
        "(SELECT COUNT(*) FROM pause_record WHERE end_date IS NULL), "
        "(SELECT COUNT(*) FROM pause_record WHERE end_date IS NOT NULL)")


def down(migrator, db):
    db.execute_sql("DROP TABLE list_totals")
