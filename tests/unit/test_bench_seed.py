"""The benchmark's seeded databases hold the totals the service keeps as it writes: a list filtered
by `reason` over them shows the seeded records' total, not an empty page."""
from servers import invariant_violations

from bench.seed import prepare_sqlite
from mentor_status_service.db import open_database
from mentor_status_service.pausing import reason_totals


def test_a_seeded_database_holds_exact_list_and_reason_totals(tmp_path):
    url = prepare_sqlite(tmp_path / "seed.db", 200)

    assert invariant_violations(url) == []
    db = open_database(url)
    try:
        # One in ten mentors is paused for personal leave; the others had a pause for a certification.
        assert reason_totals.read_all(db) == {"certification_expiry": 180, "personal_leave": 20}
    finally:
        db.close()
