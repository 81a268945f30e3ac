-- Fallback wrk script, used only when the Express peer's load/wrk.lua is not found.
-- It sends the same request and prints the same machine-readable line, so rows stay comparable:
--   WRK_AUTH_HEADER  one raw header line ("Cookie: sid=..." or "Authorization: Bearer ...")
--   WRK_METHOD       GET (default) or POST;  WRK_BODY  a JSON body for POST

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local header = os.getenv("WRK_AUTH_HEADER")
if header and header ~= "" then
  local name, value = header:match("^([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT rps=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f mean_ms=%.3f max_ms=%.3f requests=%d non2xx=%d sock_errors=%d bytes=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
