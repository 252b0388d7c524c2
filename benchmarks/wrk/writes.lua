-- The API's write use cases, one follow-up after another: start, a reached contact,
-- the outcome. Run with as many threads as connections (-t16 -c16): each thread then
-- has one connection and its own follow-ups, so no two requests race on one row.
-- IED_BENCH_IDS names a file with one line of follow-up ids per thread;
-- IED_BENCH_AUTHORIZATION is the Authorization header. done() prints one JSON line.

local auth = os.getenv("IED_BENCH_AUTHORIZATION")
local threads = {}
local ids, pos, step, non2xx, exhausted = {}, 1, 1, 0, 0

local headers = { ["Authorization"] = auth, ["Content-Type"] = "application/json" }
local steps = {
   { "/start", "{}" },
   { "/contact-attempts", '{"outcome":"reached_customer"}' },
   { "/outcome", '{"hasIssue":false,"satisfaction":"satisfied"}' },
}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("index", #threads)
end

function init(args)
   local n = 0
   for line in io.lines(os.getenv("IED_BENCH_IDS")) do
      n = n + 1
      if n == index then
         for id in string.gmatch(line, "%d+") do ids[#ids + 1] = id end
      end
   end
end

-- The position moves on in response(), so a request sent again after a reconnect (or
-- wrk's one trial call of request() at start-up) repeats the same step.
function request()
   local id = ids[pos] or ids[#ids]
   local path, body = steps[step][1], steps[step][2]
   return wrk.format("POST", "/api/v1/follow-ups/" .. id .. path, headers, body)
end

function response(status, _, _)
   if status < 200 or status > 299 then non2xx = non2xx + 1 end
   step = step + 1
   if step > #steps then
      step, pos = 1, pos + 1
      if pos > #ids then
         exhausted = 1
         wrk.thread:stop()
      end
   end
   wrk.thread:set("non2xx", non2xx)
   wrk.thread:set("exhausted", exhausted)
end

function done(summary, latency, _)
   local non2xx, exhausted = 0, 0
   for _, thread in ipairs(threads) do
      non2xx = non2xx + (thread:get("non2xx") or 0)
      exhausted = exhausted + (thread:get("exhausted") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "non2xx": %d, "exhausted": %d, '
      .. '"errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, non2xx, exhausted,
      e.connect + e.read + e.write + e.timeout + e.status,
      latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
