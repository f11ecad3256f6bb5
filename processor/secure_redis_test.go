package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// useSecureRedis points the harness's instances at the secured Redis
// (TLS only, deploy/local/redis-secure.sh), connected as ACL user arrears
// with its key prefix and the store's commands only; the harness itself
// reads and checks the state as the admin. It returns the instances' config.
func (h *harness) useSecureRedis(t *testing.T) redisstore.Config {
	t.Helper()
	cfg, admin := testkit.SecureRedis(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb, err := redisstore.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	h.rdb, h.pref, h.storeRdb = admin, cfg.Prefix, rdb
	return cfg
}
