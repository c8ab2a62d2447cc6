-- Unique ids: run tag, wrk thread, per-thread counter.
local created = 0

function request()
  created = created + 1
  return wrk.format("POST", "/api/v1/mentor-statuses", nil, new_mentor("bench", created))
end
