-- W1a through wrk: single adds (POST /v1/api/task), one once task per request, each with
-- unique data and due at a random whole second 1 min–1 h ahead.
--
--   wrk -t1 -c64 -d600s --timeout 10s -s bench/wrk/add.lua URL -- N BASE_S
--
-- Exactly N adds are sent. Once all N are out, a connection that frees up asks GET /healthz
-- instead (never an add). When the N-th add is answered the script prints one JSON line
-- and ends wrk at once (wrk itself would wait out -d): adds answered 200 with a task id,
-- adds answered otherwise, and the seconds from the first add sent to the N-th answer.
-- Run it with one thread (-t1): the counters are that thread's.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec_t;
  int clock_gettime(int clk_id, timespec_t *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("timespec_t")

local function now_s()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local n = 100000
local base_s = os.time()
local issued = 0   -- adds handed to wrk so far
local ok = 0       -- adds answered 200 with a task id
local failed = 0   -- adds answered otherwise
local health = 0   -- GET /healthz answers after the N adds were out
local first_failure = nil
local started = nil
local add_headers = { ["Content-Type"] = "application/json" }

function init(args)
  n = tonumber(args[1]) or n
  base_s = tonumber(args[2]) or base_s
  math.randomseed(42)
end

-- wrk calls request() once before the run to check what it returns, and never sends that
-- one: the first call is not an add.
local checked = false

function request()
  if not checked then
    checked = true
    return wrk.format("GET", "/healthz", {}, nil)
  end
  if issued >= n then
    return wrk.format("GET", "/healthz", {}, nil)
  end
  if issued == 0 then
    started = now_s()
  end
  issued = issued + 1
  local due = base_s + math.random(60, 3599)
  local body = string.format('{"name":"w1","type":1,"data":"wrk-%d","start_time":%d}', issued, due)
  return wrk.format("POST", "/v1/api/task", add_headers, body)
end

-- An add's 200 always carries its task id; a 200 without one is a /healthz answer, which
-- only comes once every add was issued.
function response(status, headers, body)
  local has_id = body ~= nil and string.find(body, '"taskid"', 1, true) ~= nil
  if status == 200 and has_id then
    ok = ok + 1
  elseif status == 200 and issued >= n then
    health = health + 1
  else
    failed = failed + 1
    first_failure = first_failure or (tostring(status) .. " " .. tostring(body))
      :sub(1, 300):gsub('[%c"\\]', " ")
  end
  if ok + failed >= n then
    local secs = now_s() - (started or now_s())
    io.write(string.format(
      '{"adds_ok":%d,"adds_failed":%d,"adds_issued":%d,"health_answers":%d,"secs":%.6f,'
      .. '"first_failure":"%s"}\n',
      ok, failed, issued, health, secs, first_failure or ""))
    io.flush()
    os.exit(0)
  end
end
