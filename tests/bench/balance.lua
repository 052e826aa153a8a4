-- wrk script: GET /balance with the tokens of $BENCH_TOKENS.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  local t = line:match("^(%S+)")
  if t then tokens[#tokens + 1] = t end
end

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + id)
end

request = function()
  return wrk.format("GET", "/balance", {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
  })
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
