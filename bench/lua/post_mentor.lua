-- Unique ids: run tag, wrk thread, per-thread counter.
local created = 0

function request()
  created = created + 1
  local body = string.format(
    '{"mentor_id": "bench-%s-%d-%d", "status": "active", ' ..
    '"metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}',
    run_tag, tid, created)
  return wrk.format("POST", "/api/v1/mentor-statuses", nil, body)
end
