package main

import (
	"context"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestSecureServeRedisUser: on the secured Redis, serve's own ACL user
// arrears_serve (api.redis_username) reads what the processor's user
// arrears stored (an account's state and timer through the read-only
// store, the partition meta) and writes the API's own keys (idempotency,
// approvals) and nothing else: no store key, no store script as EVALSHA,
// no key outside the prefix.
func TestSecureServeRedisUser(t *testing.T) {
	cfg, _ := testkit.SecureRedis(t, false)
	ctx := context.Background()
	proc, err := redisstore.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	ps := redisstore.New(proc, cfg.Prefix)
	meta, err := ps.Claim(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := &processor.Batch{Applied: map[string]int64{"ar.events": 41}, Clock: 1700000000000,
		Put: map[string][]byte{"ACC-S": []byte("state")}, Timers: map[string]int64{"ACC-S": 1700000500000}}
	if err := ps.Apply(ctx, 0, meta.Epoch, b); err != nil {
		t.Fatal(err)
	}

	scfg := cfg
	scfg.Username, scfg.Password = "arrears_serve", testkit.SecurePassword(t, "redis", "arrears_serve")
	serve, err := redisstore.ConnectReadOnly(ctx, scfg)
	if err != nil {
		t.Fatalf("connect as arrears_serve: %v", err)
	}
	defer serve.Close()
	ro := redisstore.New(serve, cfg.Prefix).ReadOnly()
	got, err := ro.Load(ctx, 0, 0, []string{"ACC-S"})
	if err != nil || string(got["ACC-S"].State) != "state" || got["ACC-S"].Wake != 1700000500000 {
		t.Fatalf("arrears_serve reads the account: %+v %v", got, err)
	}
	if m, err := ro.Peek(ctx, 0); err != nil || m.Applied["ar.events"] != 41 {
		t.Fatalf("arrears_serve reads the partition meta: %+v %v", m, err)
	}
	// the API's keys: what idempotency and approvals send
	api := cfg.Prefix + ":api"
	for _, c := range [][]any{{"set", api + ":idem:x", "v", "nx", "px", 60000}, {"get", api + ":idem:x"}, {"del", api + ":idem:x"},
		{"zadd", api + ":{approvals}:pending", 1, "A1"}, {"zrange", api + ":{approvals}:pending", 0, -1}, {"zrem", api + ":{approvals}:pending", "A1"}} {
		if err := serve.Do(ctx, c...).Err(); err != nil && !strings.Contains(err.Error(), "nil") {
			t.Errorf("arrears_serve %v: %v", c, err)
		}
	}
	// nothing else: the store's keys stay read-only, the writing scripts
	// and other prefixes are refused
	refused := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("arrears_serve %s: %v, want NOPERM", what, err)
		}
	}
	refused("HSET on the store", serve.HSet(ctx, cfg.Prefix+":{p0}:acct", "ACC-S", "forged").Err())
	refused("DEL of the store meta", serve.Del(ctx, cfg.Prefix+":{p0}:meta").Err())
	_, err = redisstore.New(serve, cfg.Prefix).Load(ctx, 0, 0, []string{"ACC-S"}) // EVALSHA, not _RO
	refused("EVALSHA of the load script", err)
	_, err = redisstore.New(serve, cfg.Prefix).Claim(ctx, 0)
	refused("claiming a partition", err)
	refused("SET outside the prefix", serve.Set(ctx, "other:api:x", "v", 0).Err())
	if _, err := redisstore.Connect(ctx, scfg); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("Connect (not read-only) as arrears_serve: %v, want NOPERM from its probe", err)
	}
	if st, err := ps.Load(ctx, 0, meta.Epoch, []string{"ACC-S"}); err != nil || string(st["ACC-S"].State) != "state" {
		t.Fatalf("the store after serve's attempts: %+v %v", st, err)
	}
}
