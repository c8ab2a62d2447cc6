-- One of the first 50 pages: what a client paging through sees, without measuring deep OFFSETs.
function request()
  local pages = math.max(1, math.min(50, math.floor(rows / 20)))
  return wrk.format("GET", string.format("/api/v1/mentor-statuses?page=%d&limit=20", math.random(pages)))
end
