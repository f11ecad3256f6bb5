package processor_test

import (
	"context"
	"testing"
	"time"
)

// glIDs counts every committed journal entry of h's GL topic by id.
func (h *harness) glIDs() map[string]int {
	return h.outputIDs(h.kcfg.Topics.GL, func(v []byte) (string, error) {
		e, err := h.codec.DecodeGL(context.Background(), v)
		return e.EntryID, err
	})
}

// TestSecureStackExactlyOnce: the exactly-once happy path with every
// connection secured as production runs it: the instances reach Kafka over
// SASL_SSL (SCRAM-SHA-512) as User:processor holding only the processor
// ACLs, and keep their state in the TLS-only Redis as ACL user arrears
// (its key prefix and the store's commands only). States equal the
// undisturbed reference run; every action, risk event and GL entry is
// committed exactly once; every bad record is dead-lettered once.
func TestSecureStackExactlyOnce(t *testing.T) {
	h := secureHarness(t, 4)
	h.useSecureRedis(t)
	recs := h.workload(19, 4000, 200, 97)
	stop := h.start("a")
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	gl := h.glIDs()
	ref := h.referenceRun()
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
	compareActions(t, h.actionIDs(), ref.actions)
	compareRisk(t, h.riskIDs(), ref.risk)
	refH := *h
	refH.kcfg = ref.kcfg
	compareOutputs(t, "GL entries", gl, refH.glIDs())
	h.checkDLQ(4000 / 97)
}
