-- Bulk checks for wrk:
--   wrk ... -s bulk.lua URL -- VALUES_FILE ITEMS TOKEN
-- Each request is POST /v1/checks with ITEMS random register numbers from
-- VALUES_FILE, authorised by TOKEN (an API key or access token). done()
-- prints the same "WRK ..." line as random.lua.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  values = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      values[#values + 1] = line
    end
  end
  items = tonumber(args[2])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[3]}
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  local parts = {}
  for i = 1, items do
    parts[i] = '{"register_number":"' .. values[math.random(#values)] .. '"}'
  end
  local body = '{"purpose":"periodic","items":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/v1/checks", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
