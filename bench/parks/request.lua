-- Booking requests for bench/parks/run.sh: each request asks for a different slot
-- (30-minute grid, 1 or 2 hours long, from BASE onwards), so neighbours overlap as
-- contested requests do, over at most 360 days (the area's horizon is 365).
-- Env: TOKEN (bearer), PARK, AREA, ORG, BASE (unix seconds, on the hour, UTC).
local token, park, area, org = os.getenv("TOKEN"), os.getenv("PARK"), os.getenv("AREA"), os.getenv("ORG")
local base = tonumber(os.getenv("BASE"))
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local n = 0
function request()
  n = n + 1
  local slot = ((tid or 0) * 5003 + n * 7) % 17280
  local start = base + slot * 1800
  local stop = start + 3600 * (1 + n % 2)
  local body = string.format(
    '{"area_id":"%s","organisation_id":"%s","start":"%s","end":"%s","title":"Bench event %d","category":"workshop","expected_attendance":20,"public":true,"support_items":{"chairs":1}}',
    area, org, os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", stop), n)
  return wrk.format("POST", "/api/v1/parks/" .. park .. "/bookings",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
