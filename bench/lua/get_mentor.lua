function request()
  return wrk.format("GET", "/api/v1/mentor-statuses/" .. mentor_id(math.random(rows)))
end
