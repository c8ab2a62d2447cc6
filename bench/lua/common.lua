-- Prepended to every case script by bench/cases.py.
-- Arguments (after `--` on wrk's command line): rows, thread count, run tag; and, when several wrk
-- drive instances side by side, this wrk's first thread number and the thread count of them all.
local thread_number = 0

function setup(thread)
  thread:set("tid", thread_number)
  thread_number = thread_number + 1
end

function init(args)
  rows = tonumber(args[1])
  threads = tonumber(args[2])
  run_tag = args[3]
  if args[4] then
    tid = tid + tonumber(args[4])
    threads = tonumber(args[5])
  end
  math.randomseed(os.time() * 1000 + tid * 7919)
  wrk.headers["Content-Type"] = "application/json"
  if case_init then case_init() end
end

-- One machine-readable line for bench/loadgen.py; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end

function mentor_id(i)
  return string.format("mentor-%07d", i)
end

-- The body of a POST of a new mentor, `prefix-<run tag>-<thread>-<n>`: unique across runs and threads.
function new_mentor(prefix, n)
  return string.format(
    '{"mentor_id": "%s-%s-%d-%d", "status": "active", ' ..
    '"metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}',
    prefix, run_tag, tid, n)
end
