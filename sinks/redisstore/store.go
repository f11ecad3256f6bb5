package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/processor"
)

// Store implements processor.Store on Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ro     bool // scripts as EVALSHA_RO (ReadOnly)
}

// New wraps a client.
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "arrears"
	}
	return &Store{rdb: rdb, prefix: prefix}
}

var _ processor.Store = (*Store)(nil)

// ReadOnly is s for a client whose ACL user may only read the store's keys
// (serve's own user, api.redis_username; docs/security.md): its scripts
// run as EVALSHA_RO / EVAL_RO (Redis 7+), which Redis allows on keys the
// user may only read, as it does not allow EVALSHA. Only reads (Load with
// epoch 0, Peek) work through it.
func (s *Store) ReadOnly() *Store {
	c := *s
	c.ro = true
	return &c
}

func (s *Store) key(p int32, name string) string {
	return s.prefix + ":{p" + strconv.Itoa(int(p)) + "}:" + name
}

// keys returns the meta, accounts and timers keys of p (the Lua scripts' KEYS).
func (s *Store) keys(p int32) []string {
	return []string{s.key(p, "meta"), s.key(p, "acct"), s.key(p, "timers")}
}

// claimScript raises the epoch and returns the whole meta hash. The new
// epoch is max(old + 1, ARGV[1] = now in µs): after Redis lost the partition
// the count does not start again at 1, where a zombie that held epoch 1
// before the loss would pass the fence.
var claimScript = redis.NewScript(`
local fresh = redis.call('EXISTS', KEYS[1]) == 0
local old = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
local e = math.max(old + 1, tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'epoch', string.format('%.0f', e))
local m = redis.call('HGETALL', KEYS[1])
if fresh then table.insert(m, 'fresh'); table.insert(m, '1') end
return m
`)

// Claim implements processor.Store.
func (s *Store) Claim(ctx context.Context, p int32) (processor.Meta, error) {
	res, err := claimScript.Run(ctx, s.rdb, s.keys(p), time.Now().UnixMicro()).StringSlice()
	if err != nil {
		return processor.Meta{}, fmt.Errorf("redis claim partition %d: %w", p, refused(err))
	}
	return parseMeta(res), nil
}

// parseMeta reads a meta hash given as field, value pairs.
func parseMeta(res []string) processor.Meta {
	m := processor.Meta{Applied: map[string]int64{}}
	for i := 0; i+1 < len(res); i += 2 {
		k, v := res[i], res[i+1]
		n, _ := strconv.ParseInt(v, 10, 64)
		switch {
		case k == "epoch":
			m.Epoch = n
		case k == "clock":
			m.Clock = n
		case k == "changelog":
			m.Changelog = n
		case k == "fresh":
			m.Fresh = true
		case strings.HasPrefix(k, "off:"):
			m.Applied[k[4:]] = n
		}
	}
	return m
}

// Peek reads partition p's metadata without claiming it (tools, explain).
func (s *Store) Peek(ctx context.Context, p int32) (processor.Meta, error) {
	res, err := s.rdb.HGetAll(ctx, s.key(p, "meta")).Result()
	if err != nil {
		return processor.Meta{}, fmt.Errorf("redis meta of partition %d: %w", p, err)
	}
	kv := make([]string, 0, 2*len(res))
	for k, v := range res {
		kv = append(kv, k, v)
	}
	m := parseMeta(kv)
	m.Fresh = len(res) == 0
	return m, nil
}

// loadScript reads accounts (ARGV[2:], any number: one HGET and one ZSCORE
// each, as unpack() into HMGET stops at Lua's stack limit near 8000): their
// state and timer, if ARGV[1] is still the partition's epoch (or is 0:
// tools), in the same atomic call, so an owner never takes the accounts of a
// lost partition for new ones: it learns of the loss before deciding.
var loadScript = redis.NewScript(`
if ARGV[1] ~= '0' then
  local epoch = redis.call('HGET', KEYS[1], 'epoch')
  if not epoch then return 'LOST' end
  if epoch ~= ARGV[1] then return 'FENCED' end
end
local out = {}
for i = 2, #ARGV do
  out[2*i-3] = redis.call('HGET', KEYS[2], ARGV[i])
  out[2*i-2] = redis.call('ZSCORE', KEYS[3], ARGV[i])
end
return out
`)

// dueScript returns the first ARGV[3] members of the timer index with a
// score at or before ARGV[2], with their scores, if ARGV[1] is still the
// partition's epoch. Equal scores come in member (byte) order, the order
// the processor fires in.
var dueScript = redis.NewScript(`
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return 'LOST' end
if epoch ~= ARGV[1] then return 'FENCED' end
return redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
`)

// fenced runs a fenced script and returns its array reply.
func (s *Store) fenced(ctx context.Context, sc *redis.Script, p int32, args []any) ([]any, error) {
	run := sc.Run
	if s.ro {
		run = sc.RunRO
	}
	res, err := run(ctx, s.rdb, s.keys(p), args...).Result()
	if err != nil {
		return nil, refused(err)
	}
	switch r := res.(type) {
	case []any:
		return r, nil
	case string:
		switch r {
		case "LOST":
			return nil, processor.ErrLost
		case "FENCED":
			return nil, processor.ErrFenced
		}
		return nil, fmt.Errorf("unexpected reply %q", r)
	}
	return nil, fmt.Errorf("unexpected reply %T", res)
}

// Load implements processor.Store. With epoch 0 (tools that do not own the
// partition) it reads without the check.
func (s *Store) Load(ctx context.Context, p int32, epoch int64, accounts []string) (map[string]processor.Stored, error) {
	out := make(map[string]processor.Stored, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(accounts)+1)
	args = append(args, epoch)
	for _, a := range accounts {
		args = append(args, a)
	}
	vals, err := s.fenced(ctx, loadScript, p, args)
	if err != nil {
		return nil, fmt.Errorf("redis load %d accounts of partition %d: %w", len(accounts), p, err)
	}
	for i := 0; i+1 < len(vals) && i/2 < len(accounts); i += 2 {
		str, ok := vals[i].(string)
		if !ok {
			continue
		}
		st := processor.Stored{State: []byte(str)}
		if w, ok := vals[i+1].(string); ok {
			if st.Wake, err = score(w); err != nil {
				return nil, fmt.Errorf("redis load partition %d: %w", p, err)
			}
		}
		out[accounts[i/2]] = st
	}
	return out, nil
}

// Due implements processor.Store.
func (s *Store) Due(ctx context.Context, p int32, epoch int64, until int64, limit int) ([]processor.Timer, error) {
	if limit <= 0 {
		return nil, nil
	}
	vals, err := s.fenced(ctx, dueScript, p, []any{epoch, until, limit})
	if err != nil {
		return nil, fmt.Errorf("redis due timers of partition %d: %w", p, err)
	}
	out := make([]processor.Timer, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		a, _ := vals[i].(string)
		w, _ := vals[i+1].(string)
		at, err := score(w)
		if err != nil {
			return nil, fmt.Errorf("redis due timers of partition %d: %w", p, err)
		}
		out = append(out, processor.Timer{At: at, Account: a})
	}
	return out, nil
}

// score reads a timer's score (unix ms, which a double holds exactly).
func score(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("timer score %q: %w", s, err)
	}
	return int64(f), nil
}

// Timers returns every account of p with a pending timer (unix ms): the
// whole index, for tools and tests; the processor pages it with Due.
func (s *Store) Timers(ctx context.Context, p int32) (map[string]int64, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.key(p, "timers"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis timers of partition %d: %w", p, err)
	}
	out := make(map[string]int64, len(zs))
	for _, z := range zs {
		out[z.Member.(string)] = int64(z.Score)
	}
	return out, nil
}

// applyScript: ARGV = epoch, clock, changelog, nOffsets, (topic, offset)*,
// nPuts, (account, state)* (an empty state deletes the account: an
// erasure), (account, wakeMs)*. Returns 'OK', 'STALE',
// 'FENCED' or 'LOST'.
var applyScript = redis.NewScript(`
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return 'LOST' end
if epoch ~= ARGV[1] then return 'FENCED' end
local i = 4
local n = tonumber(ARGV[i]); i = i + 1
local newer = false
local offs = {}
for j = 1, n do
  local t, o = ARGV[i], tonumber(ARGV[i+1]); i = i + 2
  local cur = tonumber(redis.call('HGET', KEYS[1], 'off:' .. t) or '-1')
  if o > cur then newer = true end
  offs[#offs+1] = 'off:' .. t; offs[#offs+1] = ARGV[i-1]
end
if n > 0 and not newer then return 'STALE' end
local np = tonumber(ARGV[i]); i = i + 1
for j = 1, np do
  if ARGV[i+1] == '' then redis.call('HDEL', KEYS[2], ARGV[i]) else redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1]) end
  i = i + 2
end
while i <= #ARGV do
  local w = tonumber(ARGV[i+1])
  if w > 0 then redis.call('ZADD', KEYS[3], w, ARGV[i]) else redis.call('ZREM', KEYS[3], ARGV[i]) end
  i = i + 2
end
if #offs > 0 then redis.call('HSET', KEYS[1], unpack(offs)) end
local clock = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
if tonumber(ARGV[2]) > clock then redis.call('HSET', KEYS[1], 'clock', ARGV[2]) end
local cl = tonumber(redis.call('HGET', KEYS[1], 'changelog') or '0')
if tonumber(ARGV[3]) > cl then redis.call('HSET', KEYS[1], 'changelog', ARGV[3]) end
return 'OK'
`)

// Apply implements processor.Store.
func (s *Store) Apply(ctx context.Context, p int32, epoch int64, b *processor.Batch) error {
	args := make([]any, 0, 4+2*len(b.Applied)+1+2*len(b.Put)+2*len(b.Timers))
	args = append(args, epoch, b.Clock, b.Changelog, len(b.Applied))
	for t, o := range b.Applied {
		args = append(args, t, o)
	}
	args = append(args, len(b.Put))
	// an account boxed once serves its state and its timer (a changed
	// account has both): one allocation fewer per account
	timers := make([]any, 0, 2*len(b.Timers))
	for a, st := range b.Put {
		var acct any = a
		args = append(args, acct, st)
		if w, ok := b.Timers[a]; ok {
			timers = append(timers, acct, w)
		}
	}
	for a, w := range b.Timers {
		if _, ok := b.Put[a]; !ok {
			timers = append(timers, a, w)
		}
	}
	args = append(args, timers...)
	res, err := applyScript.Run(ctx, s.rdb, s.keys(p), args...).Text()
	if err != nil {
		return fmt.Errorf("redis apply partition %d: %w", p, refused(err))
	}
	switch res {
	case "OK":
		return nil
	case "STALE":
		return processor.ErrStale
	case "FENCED":
		return processor.ErrFenced
	case "LOST":
		return processor.ErrLost
	}
	return fmt.Errorf("redis apply partition %d: unexpected reply %q", p, res)
}

// Ping checks the connection (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
