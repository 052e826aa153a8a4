-- What the wrk scripts share (loaded with dofile from $BENCH_LUA_DIR):
-- the senders' tokens, wrk's per-thread setup, the status count of every
-- answer, and done(), which prints one RESULT line for tests/bench/run.sh.
local common = {}

-- The first max (0: all) lines of $BENCH_TOKENS, each "token user_id".
function common.load_tokens(max)
  local tokens, ids = {}, {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    local t, id = line:match("^(%S+)%s+(%d+)$")
    if t and (max == 0 or #tokens < max) then
      tokens[#tokens + 1] = t
      ids[#ids + 1] = tonumber(id)
    end
  end
  assert(#tokens > 0, "no tokens in " .. os.getenv("BENCH_TOKENS"))
  return tokens, ids
end

local threads = {}

-- Each thread gets its own random sequence: setup() runs in the main
-- state and hands the thread its number as the global "seed".
function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (rawget(_G, "seed") or 0))
  counts = {}
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

-- Two requests per move (hold_capture.lua, refund.lua): POST `first` of
-- 1.00 from a random sender to another, then, once its 201 has come back
-- (and made(body) says that answer is the first's), POST `second` with
-- its id (a string.format pattern) by its recipient, whose token is the
-- line of $BENCH_TOKENS its name gives (line k is bench_k). Sets wrk's
-- request and response; every other request of a thread is a second.
function common.pair(first, second, made)
  local tokens, ids = common.load_tokens(0)
  local count = response
  local due = {} -- firsts answered, second not sent yet: {id, recipient}

  request = function()
    local c = table.remove(due)
    if c then
      return wrk.format("POST", string.format(second, c[1]), {
        ["Authorization"] = "Bearer " .. tokens[c[2]],
      })
    end
    local i = math.random(1, #tokens)
    local j
    repeat
      j = math.random(1, #tokens)
    until j ~= i
    return wrk.format("POST", first, {
      ["Authorization"] = "Bearer " .. tokens[i],
      ["Content-Type"] = "application/json",
    }, '{"to_id":' .. ids[j] .. ',"amount":"1.00"}')
  end

  response = function(status, headers, body)
    count(status, headers, body)
    if status == 201 and made(body) then
      local id = body:match('"id":(%d+)')
      local to = tonumber(body:match('"to":"bench_(%d+)"') or "")
      if id and to and tokens[to] then due[#due + 1] = {id, to} end
    end
  end
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

return common
