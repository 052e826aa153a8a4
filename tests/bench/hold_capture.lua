-- wrk script: POST /holds of 1.00 between bench accounts, then the capture
-- of each hold by its recipient (POST /holds/{id}/capture, the whole
-- amount): every other request of a thread is a capture, as soon as a hold
-- it made has answered. Payer and recipient are both senders of
-- $BENCH_TOKENS ("token user_id" lines in id order, line k is bench_k), so
-- the recipient's token is the line its name gives. done() (common.lua)
-- prints one RESULT line; a pair is two requests.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens, ids = common.load_tokens(0)
local count = response
local due = {} -- holds answered and not captured yet: {id, recipient line}

request = function()
  local c = table.remove(due)
  if c then
    return wrk.format("POST", "/holds/" .. c[1] .. "/capture", {
      ["Authorization"] = "Bearer " .. tokens[c[2]],
    })
  end
  local i = math.random(1, #tokens)
  local j
  repeat
    j = math.random(1, #tokens)
  until j ~= i
  return wrk.format("POST", "/holds", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, '{"to_id":' .. ids[j] .. ',"amount":"1.00"}')
end

response = function(status, headers, body)
  count(status, headers, body)
  if status == 201 then
    local id = body:match('"id":(%d+)')
    local to = tonumber(body:match('"to":"bench_(%d+)"') or "")
    if id and to and tokens[to] then due[#due + 1] = {id, to} end
  end
end
