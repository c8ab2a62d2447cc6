-- The seed writes one pause record per mentor, numbered 1..rows.
function request()
  return wrk.format("GET", string.format("/api/v1/pause-records/pause-rec-%04d", math.random(rows)))
end
