package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
	"github.com/arrears/arrears/tlsconf"
)

// TestSecureRoundTrip runs the store's whole surface (Claim, Apply, Load,
// Due, Timers, Peek, the tooling) as the ACL user arrears over TLS on the
// secured Redis and on the secured 3-master cluster: the ACL file's command
// list is exactly enough.
func TestSecureRoundTrip(t *testing.T) {
	for name, cluster := range map[string]bool{"redis": false, "redis-cluster": true} {
		t.Run(name, func(t *testing.T) {
			cfg, admin := testkit.SecureRedis(t, cluster)
			ctx := context.Background()
			// no script cached: the first call of each goes through EVAL
			if err := admin.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			rdb, err := redisstore.Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			s := redisstore.New(rdb, cfg.Prefix)
			for p := int32(0); p < 3; p++ { // partitions on different masters
				m, err := s.Claim(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				b := &processor.Batch{Applied: map[string]int64{"ar.events": 7}, Clock: 99,
					Put: map[string][]byte{"A": []byte("state-a")}, Timers: map[string]int64{"A": 5000}}
				if err := s.Apply(ctx, p, m.Epoch, b); err != nil {
					t.Fatal(err)
				}
				got, err := s.Load(ctx, p, m.Epoch, []string{"A"})
				if err != nil || string(got["A"].State) != "state-a" || got["A"].Wake != 5000 {
					t.Fatalf("load = %+v, %v", got, err)
				}
				due, err := s.Due(ctx, p, m.Epoch, 6000, 10)
				if err != nil || len(due) != 1 || due[0].Account != "A" {
					t.Fatalf("due = %+v, %v", due, err)
				}
				if tm, err := s.Timers(ctx, p); err != nil || tm["A"] != 5000 {
					t.Fatalf("timers = %v, %v", tm, err)
				}
				if pm, err := s.Peek(ctx, p); err != nil || pm.Applied["ar.events"] != 7 || pm.Clock != 99 {
					t.Fatalf("peek = %+v, %v", pm, err)
				}
			}
			if _, n, err := s.BytesPerAccount(ctx, 3); err != nil || n != 3 {
				t.Fatalf("bytes per account: %d accounts, %v", n, err)
			}
			for p := int32(0); p < 3; p++ {
				if err := s.Drop(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSecureRefusals: a wrong password, a certificate the client does not
// trust, a plaintext client and keys outside the user's prefix each fail at
// once (not by the deadline) with an error naming redis and the cause,
// which never holds the password.
func TestSecureRefusals(t *testing.T) {
	good, admin := testkit.SecureRedis(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// a key of this test outside the prefix, for the NOPERM case
	other := "other" + strings.TrimPrefix(good.Prefix, testkit.SecureRedisPrefix) + ":x"
	t.Cleanup(func() { admin.Del(context.Background(), other) })

	for _, c := range []struct {
		name  string
		edit  func(*redisstore.Config)
		cause error
		want  string
	}{
		{"wrong password", func(c *redisstore.Config) { c.Password = "not-the-password" }, redisstore.ErrAuth, "WRONGPASS"},
		{"no user", func(c *redisstore.Config) { c.Username = "" }, redisstore.ErrAuth, "WRONGPASS"},
		{"untrusted certificate", func(c *redisstore.Config) { c.TLS = tlsconf.Config{Enabled: true} }, redisstore.ErrTLS, "certificate"},
		{"wrong server name", func(c *redisstore.Config) { c.TLS.ServerName = "redis.example" }, redisstore.ErrTLS, "redis.example"},
		{"prefix outside the ACL", func(c *redisstore.Config) { c.Prefix = "other" }, redisstore.ErrNoPerm, "NOPERM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			_, err := redisstore.Connect(ctx, cfg)
			checkRefusal(t, err, c.cause, c.want, good.Password)
		})
	}
	t.Run("plaintext client", func(t *testing.T) {
		cfg := good
		cfg.TLS = tlsconf.Config{}
		cfg.Timeout = 2 * time.Second
		_, err := redisstore.Connect(ctx, cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "redis ") || !strings.Contains(err.Error(), "redis.tls.enabled") {
			t.Fatalf("plaintext client on the TLS-only port: err = %v, want a redis error pointing at redis.tls.enabled", err)
		}
	})
	t.Run("TLS client on a plaintext port", func(t *testing.T) {
		testkit.Integration(t, "redis")
		cfg := good
		cfg.Addrs, cfg.Username, cfg.Password, cfg.Timeout = []string{testkit.RedisAddr}, "", "", time.Second
		_, err := redisstore.Connect(ctx, cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "redis ") || !strings.Contains(err.Error(), "plaintext port") {
			t.Fatalf("TLS client on the plain Redis: err = %v, want a redis error saying it may be a plaintext port", err)
		}
	})

	t.Run("client certificate", func(t *testing.T) {
		cfg := good
		cfg.TLS.CertFile, cfg.TLS.KeyFile = testkit.SecureClientCert()
		rdb, err := redisstore.Connect(ctx, cfg)
		if err != nil {
			t.Fatalf("mutual TLS: %v", err)
		}
		rdb.Close()
	})

	rdb, err := redisstore.Connect(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	t.Run("key outside the prefix", func(t *testing.T) {
		// go-redis's own error: the cause is what this checks
		err := rdb.HSet(ctx, other, "f", "v").Err()
		checkRefusal(t, fmt.Errorf("redis: %w", err), redisstore.ErrNoPerm, "no permissions to access one of the keys", good.Password)
		s := redisstore.New(rdb, "other"+strings.TrimPrefix(good.Prefix, testkit.SecureRedisPrefix))
		_, err = s.Claim(ctx, 0)
		checkRefusal(t, err, redisstore.ErrNoPerm, "redis claim partition 0", good.Password)
		if n, err := admin.Exists(ctx, other).Result(); err != nil || n != 0 {
			t.Errorf("the refused write landed: exists = %d, %v", n, err)
		}
	})
	t.Run("command the store does not use", func(t *testing.T) {
		for _, err := range []error{rdb.Incr(ctx, good.Prefix+":x").Err(), rdb.FlushAll(ctx).Err(), rdb.Keys(ctx, "*").Err()} {
			checkRefusal(t, fmt.Errorf("redis: %w", err), redisstore.ErrNoPerm, "no permissions to run", good.Password)
		}
	})
}

func checkRefusal(t *testing.T, err, cause error, want, password string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatal("no error")
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("failed by the deadline, not at once: %v", err)
	case !errors.Is(err, cause) && !errors.Is(redisstore.Cause(err), cause):
		t.Errorf("err = %v, want cause %v", err, cause)
	case !strings.Contains(err.Error(), want) || !strings.Contains(strings.ToLower(err.Error()), "redis"):
		t.Errorf("err = %v, want it to name redis and %q", err, want)
	case strings.Contains(err.Error(), password):
		t.Errorf("err holds the password: %v", err)
	}
}
