"""The Lua scripts that make each queue operation one atomic step in Redis.

Every script reads the clock from Redis (``TIME``), so that replicas of the SQS service agree
on when a message becomes visible; times are milliseconds since the epoch. Scripts get a
queue's key prefix ``sqs:{<account>:<region>:<name>}:`` and build its key names from it (a
FIFO queue has one list per message group, and a redrive touches a second queue, so the keys
are not all known up front: this needs a single Redis, not a cluster).

Keys under a queue's prefix:

- ``meta``  hash: attrs (JSON), tags (JSON), created, modified, seq (order counter)
- ``msgs``  hash: id -> message document (JSON, immutable)
- ``state`` hash: ``<id>:rc`` receive count, ``<id>:first`` first receive, ``<id>:rh`` nonce of
  the current receipt, ``<id>:o`` order (the queue's counter at send), ``<id>:g`` group (FIFO)
- ``sent``  zset: id -> enqueue time (retention)
- ``delayed`` zset: id -> due; ``inflight`` zset: id -> visibility deadline
- standard queues: ``visible`` zset id -> order
- FIFO queues: ``g:<group>`` list of the group's arrived ids in order (in-flight ones first),
  ``glock`` hash group -> messages in flight, ``ready`` zset group -> order of its head (only
  groups with nothing in flight), ``gset`` set of groups with a list
- ``dedup`` hash key -> "id seq", ``dedupexp`` zset key -> expiry (FIFO deduplication)
- ``attempts`` hash ReceiveRequestAttemptId -> "id nonce ...", ``attemptexp`` zset -> expiry

Time rules are applied lazily by whichever script runs next: ``sweep`` drops messages past
the retention period, ``promote`` makes due delayed messages and expired in-flight ones
receivable again.
"""

LIB = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function load(p)
  local raw = redis.call('HGET', p .. 'meta', 'attrs')
  if not raw then return nil end
  return cjson.decode(raw)
end

local function is_fifo(attrs) return attrs.FifoQueue == 'true' end

local function order_of(p, id) return tonumber(redis.call('HGET', p .. 'state', id .. ':o')) end

local function group_key(p, g) return p .. 'g:' .. g end

-- Recompute whether group g may be received from; true when it is ready now.
local function refresh_group(p, g)
  if redis.call('HEXISTS', p .. 'glock', g) == 1 then
    redis.call('ZREM', p .. 'ready', g)
    return false
  end
  local head = redis.call('LINDEX', group_key(p, g), 0)
  if head then
    redis.call('ZADD', p .. 'ready', order_of(p, head), g)
    return true
  end
  redis.call('ZREM', p .. 'ready', g)
  redis.call('SREM', p .. 'gset', g)
  return false
end

local function unlock_one(p, g)
  if redis.call('HINCRBY', p .. 'glock', g, -1) <= 0 then redis.call('HDEL', p .. 'glock', g) end
end

-- A message becomes receivable (sent without delay, or its delay is over).
local function arrive(p, id, fifo)
  if fifo then
    local g = redis.call('HGET', p .. 'state', id .. ':g')
    local key = group_key(p, g)
    redis.call('SADD', p .. 'gset', g)
    if redis.call('RPUSH', key, id) == 1 then refresh_group(p, g) end
  else
    redis.call('ZADD', p .. 'visible', order_of(p, id), id)
  end
end

-- Store a message; true when it is receivable at once.
local function enqueue(p, fifo, id, doc, order, sent_at, delay, group, now)
  redis.call('HSET', p .. 'msgs', id, doc)
  redis.call('HSET', p .. 'state', id .. ':o', order)
  if fifo then redis.call('HSET', p .. 'state', id .. ':g', group) end
  redis.call('ZADD', p .. 'sent', sent_at, id)
  if delay > 0 then
    redis.call('ZADD', p .. 'delayed', now + delay, id)
    return false
  end
  arrive(p, id, fifo)
  return true
end

-- Remove every trace of a message; true when that made its FIFO group ready.
local function forget(p, fifo, id)
  local state = p .. 'state'
  local g = redis.call('HGET', state, id .. ':g')
  local was_inflight = redis.call('ZREM', p .. 'inflight', id) == 1
  redis.call('HDEL', p .. 'msgs', id)
  redis.call('ZREM', p .. 'visible', id)
  redis.call('ZREM', p .. 'delayed', id)
  redis.call('ZREM', p .. 'sent', id)
  local ready = false
  if fifo and g then
    redis.call('LREM', group_key(p, g), 1, id)
    if was_inflight then unlock_one(p, g) end
    ready = refresh_group(p, g)
  end
  redis.call('HDEL', state, id .. ':rc', id .. ':first', id .. ':rh', id .. ':o', id .. ':g')
  return ready
end

-- Drop messages older than the queue's retention period.
local function sweep(p, attrs, now)
  local horizon = now - tonumber(attrs.MessageRetentionPeriod or '345600') * 1000
  local fifo = is_fifo(attrs)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'sent', '-inf', '(' .. horizon, 'LIMIT', 0, 500)) do
    forget(p, fifo, id)
  end
end

-- Delayed messages now due, and in-flight ones whose visibility timeout ran out, become receivable.
local function promote(p, fifo, now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', p .. 'delayed', id)
    arrive(p, id, fifo)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'inflight', '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', p .. 'inflight', id)
    if fifo then
      local g = redis.call('HGET', p .. 'state', id .. ':g')
      unlock_one(p, g)
      refresh_group(p, g)
    else
      redis.call('ZADD', p .. 'visible', order_of(p, id), id)
    end
  end
end

-- Open a queue for an operation: its attributes (nil when it does not exist), after the time rules.
local function open(p, now)
  local attrs = load(p)
  if attrs then
    sweep(p, attrs, now)
    promote(p, is_fifo(attrs), now)
  end
  return attrs
end

local function next_due(p)
  local due = -1
  for _, key in ipairs({p .. 'delayed', p .. 'inflight'}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local score = tonumber(first[2])
      if due < 0 or score < due then due = score end
    end
  end
  return due
end

local function expire_keys(hash, zset, now)
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('HDEL', hash, key)
    redis.call('ZREM', zset, key)
  end
end

local MESSAGE_KEYS = {'msgs', 'state', 'sent', 'delayed', 'inflight', 'visible', 'ready', 'glock', 'gset',
                      'attempts', 'attemptexp'}

local function wipe_messages(p)
  for _, g in ipairs(redis.call('SMEMBERS', p .. 'gset')) do redis.call('DEL', group_key(p, g)) end
  for _, part in ipairs(MESSAGE_KEYS) do redis.call('DEL', p .. part) end
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

# KEYS: meta index | ARGV: prefix name -> 1 deleted, 0 no such queue
DELETE_QUEUE = (
    LIB
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
wipe_messages(ARGV[1])
redis.call('DEL', KEYS[1], ARGV[1] .. 'dedup', ARGV[1] .. 'dedupexp')
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""
)

# ARGV: prefix -> 1 purged, 0 no such queue (deduplication ids and sequence numbers survive)
PURGE = (
    LIB
    + """
if redis.call('EXISTS', ARGV[1] .. 'meta') == 0 then return 0 end
wipe_messages(ARGV[1])
return 1
"""
)

# ARGV: prefix channel tag dedup_window_ms, then per message: id doc delay_ms dedup_key group
# -> false (no queue) | {{id, sequence number or ''}, ...}; a FIFO duplicate answers the original's.
SEND = (
    LIB
    + """
local p, channel, tag, window = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
local attrs = open(p, now)
if not attrs then return false end
local fifo = is_fifo(attrs)
local out, arrived = {}, false
for i = 5, #ARGV, 5 do
  local id, doc, delay, dedup, group = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local seen = false
  if dedup ~= '' then
    expire_keys(p .. 'dedup', p .. 'dedupexp', now)
    seen = redis.call('HGET', p .. 'dedup', dedup)
  end
  if seen then
    local sep = string.find(seen, ' ', 1, true)
    table.insert(out, {string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)})
  else
    local order = redis.call('HINCRBY', p .. 'meta', 'seq', 1)
    local seq = ''
    if fifo then
      seq = string.format('%020d', order)
      doc = string.sub(doc, 1, -2) .. ',"seq":"' .. seq .. '"}'
    end
    if dedup ~= '' then
      redis.call('HSET', p .. 'dedup', dedup, id .. ' ' .. seq)
      redis.call('ZADD', p .. 'dedupexp', now + window, dedup)
    end
    if enqueue(p, fifo, id, doc, order, now, delay, group, now) then arrived = true end
    table.insert(out, {id, seq})
  end
end
if arrived then redis.call('PUBLISH', channel, tag) end
return out
"""
)

# ARGV: prefix channel tag max visibility_ms attempt_id('' none) attempt_window_ms
#       dlq_prefix('' none) dlq_tag max_receive_count source_arn nonce1 .. nonceN
# -> false (no queue) | {now, next_due (-1: none), {id, doc, receive_count, first_ms, nonce}...}
RECEIVE = (
    LIB
    + """
local p, channel, tag = ARGV[1], ARGV[2], ARGV[3]
local want, visibility = tonumber(ARGV[4]), tonumber(ARGV[5])
local attempt, attempt_window = ARGV[6], tonumber(ARGV[7])
local dp, dtag, max_rc, source_arn = ARGV[8], ARGV[9], tonumber(ARGV[10]), ARGV[11]
local now = now_ms()
local attrs = open(p, now)
if not attrs then return false end
local fifo = is_fifo(attrs)
local state = p .. 'state'
local out = {now, -1}

local function row(id, nonce)
  return {id, redis.call('HGET', p .. 'msgs', id), redis.call('HGET', state, id .. ':rc'),
          redis.call('HGET', state, id .. ':first'), nonce}
end

-- A retried ReceiveRequestAttemptId gets the same messages and receipts while they are still in flight.
if attempt ~= '' then
  expire_keys(p .. 'attempts', p .. 'attemptexp', now)
  local previous = redis.call('HGET', p .. 'attempts', attempt)
  if previous then
    local pairs_, intact = {}, true
    for id, nonce in string.gmatch(previous, '(%S+) (%S+)') do
      table.insert(pairs_, {id, nonce})
      if redis.call('HGET', state, id .. ':rh') ~= nonce or not redis.call('ZSCORE', p .. 'inflight', id) then
        intact = false
      end
    end
    if intact then
      for _, pair in ipairs(pairs_) do
        redis.call('ZADD', p .. 'inflight', now + visibility, pair[1])
        table.insert(out, row(pair[1], pair[2]))
      end
      return out
    end
    redis.call('HDEL', p .. 'attempts', attempt)
  end
end

local dlq = nil
if dp ~= '' and max_rc > 0 then dlq = load(dp) end

local function redrive(id)
  local doc = redis.call('HGET', p .. 'msgs', id)
  local sent = redis.call('ZSCORE', p .. 'sent', id) or now
  local g = redis.call('HGET', state, id .. ':g') or id
  forget(p, fifo, id)
  doc = string.sub(doc, 1, -2) .. ',"dlq_src":' .. cjson.encode(source_arn) .. '}'
  local order = redis.call('HINCRBY', dp .. 'meta', 'seq', 1)
  enqueue(dp, is_fifo(dlq), id, doc, order, sent, 0, g, now)
  redis.call('PUBLISH', channel, dtag)
end

local taken, record = 0, {}
-- Deliver id, or move it to the dead-letter queue when it was received maxReceiveCount times already.
local function take(id)
  if dlq and tonumber(redis.call('HGET', state, id .. ':rc') or '0') >= max_rc then
    redrive(id)
    return false
  end
  taken = taken + 1
  local nonce = ARGV[11 + taken]
  redis.call('HINCRBY', state, id .. ':rc', 1)
  if not redis.call('HGET', state, id .. ':first') then redis.call('HSET', state, id .. ':first', now) end
  redis.call('HSET', state, id .. ':rh', nonce)
  redis.call('ZADD', p .. 'inflight', now + visibility, id)
  table.insert(out, row(id, nonce))
  table.insert(record, id .. ' ' .. nonce)
  return true
end

if fifo then
  while taken < want do
    local g = redis.call('ZRANGE', p .. 'ready', 0, 0)[1]
    if not g then break end
    for _, id in ipairs(redis.call('LRANGE', group_key(p, g), 0, want - taken - 1)) do
      if take(id) then redis.call('HINCRBY', p .. 'glock', g, 1) end
    end
    refresh_group(p, g)
  end
else
  while taken < want do
    local popped = redis.call('ZPOPMIN', p .. 'visible')
    if not popped[1] then break end
    take(popped[1])
  end
end

if taken == 0 then
  out[2] = next_due(p)
elseif attempt ~= '' then
  redis.call('HSET', p .. 'attempts', attempt, table.concat(record, ' '))
  redis.call('ZADD', p .. 'attemptexp', now + attempt_window, attempt)
end
return out
"""
)

# ARGV: prefix channel tag, then per entry: id nonce -> false (no queue) | {1 deleted / 0 stale or gone, ...}
DELETE_MESSAGES = (
    LIB
    + """
local p, channel, tag = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
local attrs = open(p, now)
if not attrs then return false end
local fifo, woke, out = is_fifo(attrs), false, {}
for i = 4, #ARGV, 2 do
  local id, nonce = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', p .. 'state', id .. ':rh') == nonce then
    if forget(p, fifo, id) then woke = true end
    table.insert(out, 1)
  else
    table.insert(out, 0)
  end
end
if woke then redis.call('PUBLISH', channel, tag) end
return out
"""
)

# ARGV: prefix channel tag, then per entry: id nonce visibility_ms
# -> false (no queue) | {1 changed / 0 stale or gone / -1 not in flight, ...}
CHANGE_VISIBILITY = (
    LIB
    + """
local p, channel, tag = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
local attrs = open(p, now)
if not attrs then return false end
local woke, out = false, {}
for i = 4, #ARGV, 3 do
  local id, nonce, visibility = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HGET', p .. 'state', id .. ':rh') ~= nonce then
    table.insert(out, 0)
  elseif not redis.call('ZSCORE', p .. 'inflight', id) then
    table.insert(out, -1)
  else
    redis.call('ZADD', p .. 'inflight', now + visibility, id)
    if visibility == 0 then woke = true end
    table.insert(out, 1)
  end
end
if woke then redis.call('PUBLISH', channel, tag) end
return out
"""
)

# ARGV: prefix -> false | {visible, not_visible, delayed}
COUNTS = (
    LIB
    + """
local p = ARGV[1]
local attrs = open(p, now_ms())
if not attrs then return false end
local in_flight, delayed = redis.call('ZCARD', p .. 'inflight'), redis.call('ZCARD', p .. 'delayed')
return {redis.call('HLEN', p .. 'msgs') - in_flight - delayed, in_flight, delayed}
"""
)
