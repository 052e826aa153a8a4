-- wrk script: POST /transfer of 1.00 between bench accounts.
-- Senders: the first $BENCH_SENDERS lines (default all) of $BENCH_TOKENS,
-- each "token user_id", made by logging each sender in once before the
-- run. Recipients: a random user id in [BENCH_TO_MIN, BENCH_TO_MAX] other
-- than the sender, or always BENCH_TO_FIXED (the hot merchant account).
-- done() prints one RESULT line (tests/bench/run.sh reads it).
local tokens, ids = {}, {}
local to_min = tonumber(os.getenv("BENCH_TO_MIN") or "1")
local to_max = tonumber(os.getenv("BENCH_TO_MAX") or "1")
local to_fixed = tonumber(os.getenv("BENCH_TO_FIXED") or "0")
local senders = tonumber(os.getenv("BENCH_SENDERS") or "0")

for line in io.lines(os.getenv("BENCH_TOKENS")) do
  local t, id = line:match("^(%S+)%s+(%d+)$")
  if t and (senders == 0 or #tokens < senders) then
    tokens[#tokens + 1] = t
    ids[#ids + 1] = tonumber(id)
  end
end
assert(#tokens > 0, "no tokens in " .. os.getenv("BENCH_TOKENS"))

local threads = {}
local seed = 0
function setup(thread)
  seed = seed + 1
  thread:set("seed", seed)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
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
  return wrk.format("POST", "/transfer", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, '{"to_id":' .. to .. ',"amount":"1.00"}')
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local all, keys = {}, {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts") or {}) do
      if not all[s] then keys[#keys + 1] = s end
      all[s] = (all[s] or 0) + n
    end
  end
  table.sort(keys)
  local st = {}
  for _, s in ipairs(keys) do st[#st + 1] = s .. ":" .. all[s] end
  local l = latency
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    l:percentile(50) / 1000, l:percentile(90) / 1000,
    l:percentile(99) / 1000, l.max / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, table.concat(st, ",")))
end
