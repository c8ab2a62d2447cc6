-- The same request every time: `path` is set by bench/cases.py in front of this script.
function request()
  return wrk.format("GET", path)
end
