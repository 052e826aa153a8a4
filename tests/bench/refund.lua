-- wrk script: POST /transfer of 1.00 between bench accounts, then its
-- refund by the recipient (POST /transfers/{id}/refund, what is left):
-- every other request of a thread is a refund, as soon as a transfer it
-- made has answered. The recipient's token is the line of $BENCH_TOKENS
-- its name gives (line k is bench_k). done() (common.lua) prints one
-- RESULT line; a pair is two requests.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens, ids = common.load_tokens(0)
local count = response
local due = {} -- transfers answered and not refunded yet: {id, recipient}
local line_of = {}
for k, id in ipairs(ids) do line_of[id] = k end

request = function()
  local c = table.remove(due)
  if c then
    return wrk.format("POST", "/transfers/" .. c[1] .. "/refund", {
      ["Authorization"] = "Bearer " .. tokens[c[2]],
    })
  end
  local i = math.random(1, #tokens)
  local j
  repeat
    j = math.random(1, #tokens)
  until j ~= i
  return wrk.format("POST", "/transfer", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, '{"to_id":' .. ids[j] .. ',"amount":"1.00"}')
end

response = function(status, headers, body)
  count(status, headers, body)
  if status == 201 and body:find('"fee"', 1, true) then
    local id = body:match('"id":(%d+)')
    local to = tonumber(body:match('"to":"bench_(%d+)"') or "")
    if id and to and tokens[to] then due[#due + 1] = {id, to} end
  end
end
