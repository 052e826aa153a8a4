-- wrk script: GET /balance with the tokens of $BENCH_TOKENS (one
-- "token user_id" per line). Also the request of the HTTP + FastCGI limit
-- (payd-hello answers it with a fixed body). done() prints one RESULT line.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  local t = line:match("^(%S+)")
  if t then tokens[#tokens + 1] = t end
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
  return wrk.format("GET", "/balance", {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
  })
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
