-- The seed gives every mentor i with i % 100 == 1 a history of more than 20 entries.
function request()
  local histories = math.floor((rows - 1) / 100) + 1
  local i = 100 * (math.random(histories) - 1) + 1
  return wrk.format("GET", "/api/v1/mentor-statuses/" .. mentor_id(i) .. "/history?limit=20")
end
