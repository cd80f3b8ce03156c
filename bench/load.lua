-- wrk script for bench/load.py: rotate over the URLs in $MAPSVC_URLS (one per line), count
-- answers by status (and 503s without Retry-After), print one JSON line at the end.
local paths = {}
for line in io.lines(os.getenv("MAPSVC_URLS")) do paths[#paths + 1] = line end
local threads = {}
local counter = 0
statuses = {}
no_retry_after = 0

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[((counter + id * 7) % #paths) + 1], {["Accept-Encoding"] = "gzip"})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then
    no_retry_after = no_retry_after + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  local missing = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + count
    end
    missing = missing + thread:get("no_retry_after")
  end
  local parts = {}
  for status, count in pairs(total) do parts[#parts + 1] = string.format('"%s":%d', status, count) end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"statuses":{%s},"503_without_retry_after":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    table.concat(parts, ","), missing))
end
