-- wrk script: durable order placement. Each request is a new resting buy (its own
-- Idempotency-Key) from one of the buyers in TOKENS, spread over the six sha256
-- markets (six sequencers), prices below any ask so nothing trades.
local tokens = {}
for token in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local markets = {"sha256-1d", "sha256-7d", "sha256-30d", "sha256-90d", "sha256-180d", "sha256-365d"}
local counter = 0
-- `thread_id` is a global: wrk's setup() sets it in each thread's own Lua state.
thread_id = 0
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
end

function request()
  counter = counter + 1
  local key = string.format("bench-%d-%d-%d-%d", thread_id, os.time(), math.random(1, 1000000000), counter)
  local body = string.format(
    '{"market":"%s","side":"buy","hash_rate":"1 TH/s","price":"0.000000%02d"}',
    markets[(counter % #markets) + 1], 10 + (counter % 40))
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1],
    ["Idempotency-Key"] = key,
  }
  return wrk.format("POST", "/v1/orders", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
