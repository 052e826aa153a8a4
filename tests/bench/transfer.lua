-- wrk script: POST /transfer of 1.00 between bench accounts.
-- Senders: the first $BENCH_SENDERS lines (default all) of $BENCH_TOKENS,
-- each "token user_id", made by logging each sender in once before the
-- run. Recipients: a random user id in [BENCH_TO_MIN, BENCH_TO_MAX] other
-- than the sender, or always BENCH_TO_FIXED (the hot merchant account).
-- done() (common.lua) prints one RESULT line (tests/bench/run.sh reads it).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local to_min = tonumber(os.getenv("BENCH_TO_MIN") or "1")
local to_max = tonumber(os.getenv("BENCH_TO_MAX") or "1")
local to_fixed = tonumber(os.getenv("BENCH_TO_FIXED") or "0")
local tokens, ids = common.load_tokens(tonumber(os.getenv("BENCH_SENDERS") or "0"))

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
