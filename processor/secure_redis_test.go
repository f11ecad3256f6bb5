package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestSecureRedisExactlyOnce: the exactly-once happy path with the state in
// the secured Redis, the instances connected over TLS as ACL user arrears
// (its key prefix and the store's commands only, deploy/local/
// redis-secure.sh): states equal the undisturbed reference run, every
// action and risk event exactly once, every bad record dead-lettered once.
func TestSecureRedisExactlyOnce(t *testing.T) {
	h := newHarnessOn(t, testkit.KafkaConfig(t, 4))
	h.env = fullEnv(t)
	cfg, admin := testkit.SecureRedis(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb, err := redisstore.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	h.rdb, h.pref, h.storeRdb = admin, cfg.Prefix, rdb
	recs := h.workload(17, 3000, 200, 97)
	stop := h.start("a")
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	ref := h.referenceRun()
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
	compareActions(t, h.actionIDs(), ref.actions)
	compareRisk(t, h.riskIDs(), ref.risk)
	h.checkDLQ(3000 / 97)
}
