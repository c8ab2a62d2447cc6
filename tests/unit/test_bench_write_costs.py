"""bench/write_costs.py: a run drops triggers and indexes only within its own transaction, and the
pauses it writes are rolled back with them, so every variant measures the same schema and data."""
from bench import seed
from bench.write_costs import Backend, run


def test_a_run_leaves_the_schema_and_the_data_as_they_were(tmp_path):
    backend = Backend(seed.prepare_sqlite(str(tmp_path / "bench.db"), 200))

    def state():
        return (backend.rows("SELECT type, name FROM sqlite_master ORDER BY 1, 2"),
                backend.rows("SELECT COUNT(*), MAX(id) FROM pause_record"),
                backend.rows("SELECT mentor_id, paused, base_status FROM mentor_status ORDER BY 1"))

    before = state()
    triggers, indexes = backend.triggers(), backend.indexes()
    mentors = [seed.mentor_id(i) for i in range(1, 200) if i % 10 and i % 20 != 5][:60]
    timed = run(backend, mentors, triggers=triggers, indexes=indexes)

    assert timed > 0
    assert len(triggers) >= 15 and "pause_record_pkey" not in indexes and "pause_record_mentor" not in indexes
    assert state() == before
