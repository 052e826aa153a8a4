-- wrk script: POST /transfer between random accounts.
-- Tokens come from $BENCH_TOKENS (one "token user_id" per line), made by
-- logging each sender in once before the run. Recipients are user ids in
-- [BENCH_TO_MIN, BENCH_TO_MAX], or always BENCH_TO_FIXED (the hot account).
local tokens, ids = {}, {}
local to_min = tonumber(os.getenv("BENCH_TO_MIN") or "1")
local to_max = tonumber(os.getenv("BENCH_TO_MAX") or "1")
local to_fixed = tonumber(os.getenv("BENCH_TO_FIXED") or "0")

for line in io.lines(os.getenv("BENCH_TOKENS")) do
  local t, id = line:match("^(%S+)%s+(%d+)$")
  if t then
    tokens[#tokens + 1] = t
    ids[#ids + 1] = tonumber(id)
  end
end

local statuses = {}
function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + id)
  counts = {}
end

request = function()
  local i = math.random(1, #tokens)
  local to = to_fixed
  if to == 0 then
    repeat
      to = math.random(to_min, to_max)
    until to ~= ids[i]
  end
  if to == ids[i] then
    i = (i % #tokens) + 1
  end
  return wrk.format("POST", "/transfer", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, '{"to_id":' .. to .. ',"amount":"1.00"}')
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local l = latency
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    l:percentile(50) / 1000, l:percentile(90) / 1000,
    l:percentile(99) / 1000, l.max / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
