"""Many writes moving the same reasons at once on PostgreSQL, with folds among them: none fails (no
write waits on a row another holds, so none deadlocks or times out), and every snapshot a reader
takes sees each reason's kept total equal to the records that have it, as the service reads it."""
import threading
from collections import Counter

import pytest
from servers import invariant_violations, postgresql_url_or_skip

from mentor_status_service.db import database
from mentor_status_service.pausing import reason_totals, totals
from mentor_status_service.pausing.models import PauseRecord, ReasonTotalsDelta

pytestmark = pytest.mark.slow

MENTORS, RECORDS = "/api/v1/mentor-statuses", "/api/v1/pause-records"
WRITERS, ROUNDS = 24, 4
REASONS = ("travel", "illness")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_writes_of_shared_reasons_keep_every_reason_total_exact_at_every_moment(app, database_url,
                                                                                              monkeypatch):
    monkeypatch.setattr(totals, "FOLD_EVERY", 4)  # folds run among the writes, not once in a while
    client = app.test_client()
    for n in range(WRITERS):
        assert client.post(MENTORS, json={"mentor_id": f"own-{n}"}).status_code == 201
    barrier = threading.Barrier(WRITERS + 1, timeout=60)
    outcomes, snapshots, drifts, done = Counter(), Counter(), [], threading.Event()

    def write(n):
        mentor, writer = f"{MENTORS}/own-{n}", app.test_client()
        try:
            barrier.wait()
            for turn in range(ROUNDS):
                outcomes[writer.put(mentor, json={"status": "paused", "pause_reason": REASONS[n % 2]}).status_code] += 1
                outcomes[writer.put(mentor, json={"pause_reason": REASONS[(n + 1) % 2]}).status_code] += 1
                outcomes[writer.put(mentor, json={"status": "active"}).status_code] += 1
                past = writer.post(RECORDS, json={"mentor_id": f"own-{n}", "reason": "travel", "start_date":
                                                  f"2025-0{turn + 1}-01", "end_date": f"2025-0{turn + 1}-20"})
                outcomes[past.status_code] += 1
                outcomes[writer.delete(f"{RECORDS}/{past.json['pause_record_id']}").status_code] += 1
            if n % 2:
                outcomes[writer.delete(mentor).status_code] += 1  # erased with every pause it had
        finally:
            database.close()

    def read():
        try:
            barrier.wait()
            while not done.is_set():
                with database.atomic():
                    # One snapshot for the kept totals and the count, as recount takes it.
                    database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    for reason in REASONS:
                        kept = reason_totals.read(reason)
                        counted = PauseRecord.select().where(PauseRecord.reason == reason).count()
                        if kept != counted:
                            drifts.append((reason, kept, counted))
                snapshots["read"] += 1
        finally:
            database.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=read)
    for thread in (*writers, reader):
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    done.set()
    reader.join(timeout=60)

    assert outcomes == {200: WRITERS * ROUNDS * 4 + WRITERS // 2, 201: WRITERS * ROUNDS}, outcomes
    assert drifts == [] and snapshots["read"] > 10, (drifts[:5], snapshots)
    assert invariant_violations(postgresql_url_or_skip()) == []
    assert ReasonTotalsDelta.select().count() < WRITERS * ROUNDS  # folded as the writes went
    # Each mentor kept one ended pause a round, with the reason it was changed to; the odd ones were erased.
    assert reason_totals.read_all() == {"illness": WRITERS // 2 * ROUNDS}
