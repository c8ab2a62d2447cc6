-- As post_mentor.lua, each POST with an Idempotency-Key of its own (the key's claim and kept response).
local created = 0

function request()
  created = created + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_tag, tid, created)
  return wrk.format("POST", "/api/v1/mentor-statuses", headers, new_mentor("keyed", created))
end
