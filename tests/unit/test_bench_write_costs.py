"""bench/write_costs.py: a run drops triggers and indexes only within its own transaction, and the
pauses it writes are rolled back with them, so every variant measures the same schema and data."""
from bench import seed
from bench.write_costs import Backend, run


class Watched(Backend):
    """Notes, at each pair it writes, how many triggers and pause-record indexes there are, and pauses."""

    seen = None

    def pair(self, mentor):
        self.seen.append((*state(self)[0:2], state(self)[2][0][0]))
        super().pair(mentor)


def state(backend):
    return (backend.rows("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")[0][0],
            backend.rows("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pause_record'")[0][0],
            backend.rows("SELECT COUNT(*), MAX(id) FROM pause_record"),
            backend.rows("SELECT mentor_id, paused, base_status FROM mentor_status ORDER BY 1"))


def test_a_run_drops_what_it_is_told_within_itself_and_leaves_the_schema_and_the_data_as_they_were(tmp_path):
    backend = Watched(seed.prepare_sqlite(str(tmp_path / "bench.db"), 200))
    backend.seen = []
    before = state(backend)
    triggers, indexes = backend.triggers(), backend.indexes()
    mentors = [seed.mentor_id(i) for i in range(1, 200) if i % 10 and i % 20 != 5][:60]
    timed = run(backend, mentors, triggers=triggers, indexes=indexes)

    assert timed > 0 and len(backend.seen) == 60
    assert len(triggers) >= 15 and "pause_record_mentor" not in indexes and len(indexes) >= 25
    # During the run: no trigger of the two tables, and only the indexes that writes read.
    assert backend.seen[0] == (before[0] - len(triggers), before[1] - len(indexes), before[2][0][0])
    assert backend.seen[-1][2] == before[2][0][0] + 59  # a pause written by each pair before it
    assert state(backend) == before
