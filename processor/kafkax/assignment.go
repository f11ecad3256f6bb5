package kafkax

import "github.com/twmb/franz-go/pkg/kgo"

// WatchAssignment is franz-go's default group balancer (cooperative
// sticky) with onSync called on every sync with the partitions of topic
// in this member's whole new assignment, before the client revokes or
// assigns anything by it.
//
// A consumer in a GroupTransactSession needs it to know what it owns: the
// session wraps OnPartitionsRevoked and OnPartitionsLost and does not call
// them again until its next End, so a member that is revoked twice with no
// transaction between (an idle one while two members join) never hears of
// the second revocation (franz-go v1.22.2, NewGroupTransactSession). The
// sync's assignment is whole, so what it no longer names is gone, whether
// the callback runs or not. onSync runs in the client's group goroutine:
// it must not poll or end a transaction.
func WatchAssignment(topic string, onSync func(assigned map[int32]bool)) kgo.GroupOpt {
	return kgo.Balancers(syncWatch{GroupBalancer: kgo.CooperativeStickyBalancer(), topic: topic, onSync: onSync})
}

// syncWatch is a balancer that reports each parsed sync assignment.
type syncWatch struct {
	kgo.GroupBalancer
	topic  string
	onSync func(map[int32]bool)
}

func (w syncWatch) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	assigned, err := w.GroupBalancer.ParseSyncAssignment(assignment)
	if err == nil {
		ids := make(map[int32]bool, len(assigned[w.topic]))
		for _, id := range assigned[w.topic] {
			ids[id] = true
		}
		w.onSync(ids)
	}
	return assigned, err
}
