-- As post_mentor.lua, each POST with an Idempotency-Key of its own (the key's claim and kept response).
local created = 0

function request()
  created = created + 1
  local body = string.format(
    '{"mentor_id": "keyed-%s-%d-%d", "status": "active", ' ..
    '"metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}',
    run_tag, tid, created)
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_tag, tid, created)
  return wrk.format("POST", "/api/v1/mentor-statuses", headers, body)
end
