-- The same body as post_mentor.lua, with every field json-server would otherwise not have.
local created = 0

function request()
  created = created + 1
  local body = string.format(
    '{"mentor_id": "bench-%s-%d-%d", "status": "active", "is_paused": false, "pause_start_date": null, ' ..
    '"expected_return_date": null, "pause_reason": null, ' ..
    '"metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}',
    run_tag, tid, created)
  return wrk.format("POST", "/mentor-statuses", nil, body)
end
