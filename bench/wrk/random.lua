-- Random GETs for wrk:
--   wrk ... -s random.lua URL -- VALUES_FILE TEMPLATE [AT_FROM AT_TO]
-- Each request's path is TEMPLATE with {v} replaced by a random line of
-- VALUES_FILE and {at} by a random instant (RFC 3339) between the Unix
-- seconds AT_FROM and AT_TO. done() prints one "WRK key=value ..." line
-- that bench/run reads.

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
  if #values == 0 then
    error("no values in " .. args[1])
  end
  template = args[2]
  at_from = tonumber(args[3] or "0")
  at_to = tonumber(args[4] or "0")
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  local path = template:gsub("{v}", values[math.random(#values)])
  if at_to > 0 then
    path = path:gsub("{at}", os.date("!%Y-%m-%dT%H:%M:%SZ", math.random(at_from, at_to)))
  end
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
