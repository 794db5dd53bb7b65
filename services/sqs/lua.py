"""The Lua scripts that make each queue operation one atomic step in Redis.

Every script takes the keys of one queue (they share a ``{hash tag}``) and reads the clock
from Redis (``TIME``), so that replicas of the SQS service agree on when a message becomes
visible. Times are milliseconds since the epoch.

Keys of a queue (see storage.QueueKeys): ``meta`` (hash: attrs, tags, created, modified,
seq), ``msgs`` (hash: id -> message JSON), ``state`` (hash: ``<id>:rc`` receive count,
``<id>:first`` first receive, ``<id>:rh`` current receipt nonce), ``visible`` (list of ids
ready to receive), ``delayed`` (zset id -> due), ``inflight`` (zset id -> visibility deadline),
``dedup`` (hash: FIFO deduplication key -> "id seq") and ``dedupexp`` (zset key -> expiry).
"""

NOW = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS: meta index | ARGV: name attrs_json tags_json created_s
CREATE = """
local existing = redis.call('HGET', KEYS[1], 'attrs')
if existing then return existing end
redis.call('HSET', KEYS[1], 'attrs', ARGV[2], 'tags', ARGV[3], 'created', ARGV[4], 'modified', ARGV[4], 'seq', 0)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return false
"""

# KEYS: meta msgs state visible delayed inflight dedup dedupexp index | ARGV: name
DELETE_QUEUE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('ZREM', KEYS[9], ARGV[1])
return 1
"""

# KEYS: meta msgs visible delayed dedup dedupexp
# ARGV: id doc_json delay_ms fifo(0/1) dedup_key ('' when none) dedup_window_ms notify_channel tag
# -> false (no queue) | {id, sequence number or ''}
SEND = (
    NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
local id, doc = ARGV[1], ARGV[2]
if ARGV[5] ~= '' then
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('HDEL', KEYS[5], key)
    redis.call('ZREM', KEYS[6], key)
  end
  local seen = redis.call('HGET', KEYS[5], ARGV[5])
  if seen then
    local sep = string.find(seen, ' ', 1, true)
    return {string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)}
  end
end
local seq = ''
if ARGV[4] == '1' then
  seq = string.format('%020d', redis.call('HINCRBY', KEYS[1], 'seq', 1))
  doc = string.sub(doc, 1, -2) .. ',"seq":"' .. seq .. '"}'
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[5], ARGV[5], id .. ' ' .. seq)
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[6]), ARGV[5])
end
redis.call('HSET', KEYS[2], id, doc)
local delay = tonumber(ARGV[3])
if delay > 0 then
  redis.call('ZADD', KEYS[4], now + delay, id)
else
  redis.call('RPUSH', KEYS[3], id)
  redis.call('PUBLISH', ARGV[7], ARGV[8])
end
return {id, seq}
"""
)

# Move what became visible (delayed messages now due, in-flight ones whose visibility timeout
# ran out) onto the visible list. Expired in-flight messages go to the front: they are older.
PROMOTE = """
local function promote(now, visible, delayed, inflight)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', delayed, id)
    redis.call('RPUSH', visible, id)
  end
  local expired = redis.call('ZRANGEBYSCORE', inflight, '-inf', now, 'LIMIT', 0, 1000)
  for i = #expired, 1, -1 do
    redis.call('ZREM', inflight, expired[i])
    redis.call('LPUSH', visible, expired[i])
  end
end

local function next_due(delayed, inflight)
  local due = -1
  for _, key in ipairs({delayed, inflight}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local score = tonumber(first[2])
      if due < 0 or score < due then due = score end
    end
  end
  return due
end
"""

# KEYS: meta msgs state visible delayed inflight | ARGV: max visibility_ms nonce1 .. nonceN
# -> false (no queue) | {now, next_due (-1: none), {id, doc, receive_count, first_ms, nonce}...}
RECEIVE = (
    NOW
    + PROMOTE
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
promote(now, KEYS[4], KEYS[5], KEYS[6])
local out = {now, -1}
local want, visibility = tonumber(ARGV[1]), tonumber(ARGV[2])
local taken = 0
while taken < want do
  local id = redis.call('LPOP', KEYS[4])
  if not id then break end
  local doc = redis.call('HGET', KEYS[2], id)
  if doc then
    taken = taken + 1
    local nonce = ARGV[2 + taken]
    local count = redis.call('HINCRBY', KEYS[3], id .. ':rc', 1)
    local first = redis.call('HGET', KEYS[3], id .. ':first')
    if not first then
      first = tostring(now)
      redis.call('HSET', KEYS[3], id .. ':first', first)
    end
    redis.call('HSET', KEYS[3], id .. ':rh', nonce)
    redis.call('ZADD', KEYS[6], now + visibility, id)
    table.insert(out, {id, doc, count, first, nonce})
  end
end
if taken == 0 then out[2] = next_due(KEYS[5], KEYS[6]) end
return out
"""
)

# KEYS: msgs state visible delayed inflight | ARGV: id nonce -> 1 deleted, 0 stale or gone
DELETE_MESSAGE = """
if redis.call('HGET', KEYS[2], ARGV[1] .. ':rh') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1] .. ':rc', ARGV[1] .. ':first', ARGV[1] .. ':rh')
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('LREM', KEYS[3], 1, ARGV[1])
return 1
"""

# KEYS: meta msgs state visible delayed inflight
# -> false | {visible, not_visible, delayed}
COUNTS = (
    NOW
    + PROMOTE
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = now_ms()
promote(now, KEYS[4], KEYS[5], KEYS[6])
return {redis.call('LLEN', KEYS[4]), redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[5])}
"""
)
