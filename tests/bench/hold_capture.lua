-- wrk script: POST /holds of 1.00 between bench accounts, then the capture
-- of each hold by its recipient (POST /holds/{id}/capture, the whole
-- amount, answered 200): common.pair, as soon as a hold a thread made has
-- answered. done() (common.lua) prints one RESULT line; a pair is two
-- requests.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
common.pair("/holds", "/holds/%s/capture", function() return true end)
