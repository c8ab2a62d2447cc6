function request()
  return wrk.format("GET", "/ceiling")
end
