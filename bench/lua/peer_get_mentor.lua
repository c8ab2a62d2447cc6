-- json-server (bench/peer.py) serves the seeded mentors at /mentor-statuses/<mentor_id>.
function request()
  return wrk.format("GET", "/mentor-statuses/" .. mentor_id(math.random(rows)))
end
