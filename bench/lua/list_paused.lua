-- The seed pauses one mentor in ten.
function request()
  local pages = math.max(1, math.min(50, math.floor(rows / 200)))
  return wrk.format("GET", string.format("/api/v1/mentor-statuses?status=paused&page=%d&limit=20",
                                         math.random(pages)))
end
