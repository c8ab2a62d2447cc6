-- Alternates: PUT paused on the next mentor of this thread's pool, then PUT active on the mentor
-- paused LAG pauses earlier, so requests in flight at once never touch the same mentor.
-- Pool: seeded mentors that are neither paused (i % 10 == 0) nor inactive (i % 20 == 5),
-- dealt out to the wrk threads so no two threads share one.
local LAG = 64
local pool = {}
local sent = 0

function case_init()
  local n = 0
  for i = 1, rows do
    if i % 10 ~= 0 and i % 20 ~= 5 then
      if n % threads == tid then pool[#pool + 1] = mentor_id(i) end
      n = n + 1
    end
  end
end

local PAUSE = '{"status": "paused", "expected_return_date": "2027-01-01T00:00:00Z", "pause_reason": "personal_leave"}'
local RESUME = '{"status": "active"}'

function request()
  local k = math.floor(sent / 2)
  local pausing = sent % 2 == 0
  sent = sent + 1
  local target = pausing and k or (k - LAG)
  local path = "/api/v1/mentor-statuses/" .. pool[(target % #pool) + 1]
  return wrk.format("PUT", path, nil, pausing and PAUSE or RESUME)
end
