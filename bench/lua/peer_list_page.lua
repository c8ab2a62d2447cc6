-- json-server's pages: _page and _limit, the total in X-Total-Count. One of the first 50, as list_page.lua.
function request()
  local pages = math.max(1, math.min(50, math.floor(rows / 20)))
  return wrk.format("GET", string.format("/mentor-statuses?_page=%d&_limit=20", math.random(pages)))
end
