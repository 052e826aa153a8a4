-- wrk script: POST /transfers/batch of $BENCH_BATCH_N transfers of 0.01
-- each, from a random sender of $BENCH_TOKENS to random accounts in
-- [BENCH_TO_MIN, BENCH_TO_MAX] other than the sender, all or nothing when
-- $BENCH_BATCH_ATOMIC is "true". done() (common.lua) prints one RESULT
-- line; transfers/s is its rps times N (tests/bench/report.awk).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local to_min = tonumber(os.getenv("BENCH_TO_MIN") or "1")
local to_max = tonumber(os.getenv("BENCH_TO_MAX") or "1")
local n = tonumber(os.getenv("BENCH_BATCH_N") or "100")
local atomic = os.getenv("BENCH_BATCH_ATOMIC") or "true"
local tokens, ids = common.load_tokens(tonumber(os.getenv("BENCH_SENDERS") or "0"))

request = function()
  local i = math.random(1, #tokens)
  local items = {}
  for k = 1, n do
    local to
    repeat
      to = math.random(to_min, to_max)
    until to ~= ids[i]
    items[k] = '{"to_id":' .. to .. ',"amount":"0.01"}'
  end
  return wrk.format("POST", "/transfers/batch", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, '{"atomic":' .. atomic .. ',"transfers":[' .. table.concat(items, ",") .. "]}")
end
