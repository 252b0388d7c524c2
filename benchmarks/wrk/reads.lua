-- One GET, again and again, on every connection: the API (IED_BENCH_AUTHORIZATION)
-- or the console (IED_BENCH_COOKIE, a signed-in session). Every answer that is not
-- 2xx is counted (a lost session would answer 303 to /login, which wrk does not count
-- as an error). done() prints one JSON line.

wrk.headers["Authorization"] = os.getenv("IED_BENCH_AUTHORIZATION")
wrk.headers["Cookie"] = os.getenv("IED_BENCH_COOKIE")
local threads = {}
local non2xx = 0

function setup(thread)
   threads[#threads + 1] = thread
end

function response(status, _, _)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      wrk.thread:set("non2xx", non2xx)
   end
end

function done(summary, latency, _)
   local non2xx = 0
   for _, thread in ipairs(threads) do
      non2xx = non2xx + (thread:get("non2xx") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "non2xx": %d, "exhausted": 0, '
      .. '"errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, non2xx,
      e.connect + e.read + e.write + e.timeout + e.status,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
