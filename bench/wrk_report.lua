-- wrk reporter: prints one machine-readable line after the run (used by bench/*.sh).
-- Optional rotation: BENCH_PATHS_FILE names a file of path suffixes (one a line) appended
-- to BENCH_PATH_PREFIX, e.g. prefix "/status/" + a job id, or "/gallery/list?limit=24&cursor=" +
-- a cursor. Each wrk thread starts at a different offset so the 64 connections spread out.

local prefix = os.getenv("BENCH_PATH_PREFIX")
local file = os.getenv("BENCH_PATHS_FILE")
local paths = nil
local n, i = 0, 0
thread_no = 0 -- global: thread:set() overwrites it in each thread

if file and file ~= "" then
  paths = {}
  for line in io.lines(file) do
    if line ~= "" then
      n = n + 1
      paths[n] = wrk.format("GET", (prefix or "") .. line)
    end
  end
end

local counter = 0
function setup(thread)
  thread:set("thread_no", counter)
  counter = counter + 1
end

function init(args)
  if paths then i = (thread_no * 7919) % n end
end

if paths then
  request = function()
    i = i + 1
    if i > n then i = 1 end
    return paths[i]
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout=%d distinct_paths=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout, n))
end
