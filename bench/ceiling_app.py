"""The CEILING: a bare Flask app answering one constant mentor status, the same size as the service's.

Run under the same gunicorn.conf.py as the service, it shows what this stack does with no
database, no schema and no routing work, so each case is read as a share of it.
"""
from flask import Flask, jsonify

# What GET /api/v1/mentor-statuses/<id> returns for a seeded mentor (bench/seed.py): same keys, same size.
MENTOR_STATUS = {
    "mentor_id": "mentor-0000001",
    "status": "active",
    "is_paused": False,
    "pause_start_date": None,
    "expected_return_date": None,
    "pause_reason": None,
    "metadata": {"initiated_by": "coordinator-007", "notes": "seeded by bench"},
    "created_at": "2026-01-01T00:00:01Z",
    "last_updated": "2026-01-01T00:00:01Z",
}

app = Flask(__name__)
app.json.sort_keys = False


@app.get("/ceiling")
def ceiling():
    return jsonify(MENTOR_STATUS)
