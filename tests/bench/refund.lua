-- wrk script: POST /transfer of 1.00 between bench accounts, then its
-- refund by the recipient (POST /transfers/{id}/refund, what is left):
-- common.pair, as soon as a transfer a thread made has answered. A
-- refund's 201 has no "fee", a transfer's has. done() (common.lua) prints
-- one RESULT line; a pair is two requests.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
common.pair("/transfer", "/transfers/%s/refund", function(body)
  return body:find('"fee"', 1, true) ~= nil
end)
