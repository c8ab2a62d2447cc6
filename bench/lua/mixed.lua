-- The read and write cases in turn, one request each: what --memory drives for its request count.
local created = 0
local turn = 0

local function history()
  local i = 100 * (math.random(math.floor((rows - 1) / 100) + 1) - 1) + 1
  return "/api/v1/mentor-statuses/" .. mentor_id(i) .. "/history?limit=20"
end

local reads = {
  function() return "/api/v1/mentor-statuses/" .. mentor_id(math.random(rows)) end,
  function() return string.format("/api/v1/pause-records/pause-rec-%04d", math.random(rows)) end,
  function() return string.format("/api/v1/mentor-statuses?page=%d&limit=20", math.random(math.max(1, math.min(50, math.floor(rows / 20))))) end,
  function() return "/api/v1/mentor-statuses?status=paused&limit=20" end,
  function() return "/api/v1/mentor-statuses?overdue=true" end,
  history,
  function() return string.format("/api/v1/changes?after=%d&limit=100", math.random(0, 2 * rows - 100)) end,
}

function request()
  turn = turn + 1
  if turn % (#reads + 1) == 0 then
    created = created + 1
    local body = string.format('{"mentor_id": "mixed-%s-%d-%d", "metadata": {"n": %d}}', run_tag, tid, created, created)
    return wrk.format("POST", "/api/v1/mentor-statuses", nil, body)
  end
  return wrk.format("GET", reads[turn % (#reads + 1)]())
end
