-- The seed writes at least two change entries per mentor: any `after` below 2 * rows - 100 has a full page.
function request()
  return wrk.format("GET", string.format("/api/v1/changes?after=%d&limit=100", math.random(0, 2 * rows - 100)))
end
