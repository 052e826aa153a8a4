-- wrk script: GET /balance with the tokens of $BENCH_TOKENS (one
-- "token user_id" per line). Also the request of the HTTP + FastCGI limit
-- (payd-hello answers it with a fixed body). done() (common.lua) prints
-- one RESULT line.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens = common.load_tokens(0)

request = function()
  return wrk.format("GET", "/balance", {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
  })
end
