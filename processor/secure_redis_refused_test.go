package processor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestSecureRedisPermissionLost: a running processor whose Redis ACL user
// loses the store's script commands mid-run stops with an error naming
// redis and NOPERM (processor.ErrStoreRefused) instead of retrying the
// partition forever. The test's own ACL user (the rule of user arrears,
// on this test's prefix) is the one revoked.
func TestSecureRedisPermissionLost(t *testing.T) {
	h := newHarnessOn(t, testkit.KafkaConfig(t, 2))
	h.env = fullEnv(t)
	cfg, admin := testkit.SecureRedis(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	rule, err := admin.Do(ctx, "ACL", "GETUSER", "arrears").Result()
	if err != nil {
		t.Fatal(err)
	}
	var commands string
	switch r := rule.(type) {
	case map[any]any:
		commands, _ = r["commands"].(string)
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			if r[i] == "commands" {
				commands, _ = r[i+1].(string)
			}
		}
	}
	if commands == "" {
		t.Fatalf("ACL GETUSER arrears: no commands in %v", rule)
	}
	user := "t" + testkit.ID()
	args := []any{"ACL", "SETUSER", user, "on", ">" + cfg.Password, "resetkeys", "~" + cfg.Prefix + ":*", "resetchannels"}
	for _, c := range strings.Fields(commands) {
		args = append(args, c)
	}
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	cfg.Username = user
	rdb, err := redisstore.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	pcfg := processor.Defaults()
	pcfg.GroupID, pcfg.TransactionalID, pcfg.Time = h.group, h.group+"-x", processor.TimeSimulated
	p, err := processor.New(pcfg, h.kcfg, redisstore.New(rdb, cfg.Prefix), h.codec, h.env, processor.NewMetrics(nil),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	recs := h.workload(23, 2000, 100, 97)
	h.produceAll(recs[:1000])
	// the processor applies batches as user; then the user loses EVALSHA/EVAL
	waitFor(t, "the processor to apply a batch", 60*time.Second, func() bool {
		for _, part := range []string{"{p0}", "{p1}"} {
			m, _ := admin.HGetAll(ctx, cfg.Prefix+":"+part+":meta").Result()
			for k := range m {
				if strings.HasPrefix(k, "off:") {
					return true
				}
			}
		}
		return false
	})
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "-evalsha", "-eval").Err(); err != nil {
		t.Fatal(err)
	}
	h.produceAll(recs[1000:])
	select {
	case err := <-done:
		if !errors.Is(err, processor.ErrStoreRefused) || !strings.Contains(err.Error(), "redis") || !strings.Contains(err.Error(), "NOPERM") {
			t.Fatalf("Run = %v, want ErrStoreRefused naming redis and NOPERM", err)
		}
		t.Logf("Run: %v", err)
		if strings.Contains(err.Error(), cfg.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the processor kept retrying for 120 s after its Redis user lost its permissions")
	}
}
