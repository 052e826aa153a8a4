-- wrk script: reads of the one account with a long history
-- (tests/bench/history.sql), with the token $BENCH_HISTORY_TOKEN: GET
-- $BENCH_HISTORY_PATH when set (a statement), else GET /balance?at= a
-- random second in [BENCH_AT_MIN, BENCH_AT_MAX] (UNIX times). done()
-- (common.lua) prints one RESULT line.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local token = os.getenv("BENCH_HISTORY_TOKEN")
local path = os.getenv("BENCH_HISTORY_PATH")
local at_min = tonumber(os.getenv("BENCH_AT_MIN") or "0")
local at_max = tonumber(os.getenv("BENCH_AT_MAX") or "0")

request = function()
  local p = path
  if p == nil or p == "" then
    p = "/balance?at=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.random(at_min, at_max))
  end
  return wrk.format("GET", p, { ["Authorization"] = "Bearer " .. token })
end
