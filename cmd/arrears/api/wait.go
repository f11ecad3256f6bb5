package api

import (
	"context"
	"time"
)

// waitApplied waits until partition p has applied offset off of the
// events topic (the processor's Redis checkpoint, written after the Kafka
// transaction that applied it committed), then loads the account view:
// read-your-writes. applied is false when d ran out first (or the request
// was cancelled). The checkpoint is polled from 2 ms, doubling to 25 ms:
// a few Redis reads per write, most of them during the processor's batch.
func (s *Server) waitApplied(ctx context.Context, account string, p int32, off int64, d time.Duration) (view any, applied bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	step := 2 * time.Millisecond
	for {
		got, err := s.deps.State.Applied(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, nil
			}
			return nil, false, err
		}
		if got >= off {
			break
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, nil
		case <-t.C:
		}
		step = min(2*step, 25*time.Millisecond)
	}
	v, err := s.accountView(context.WithoutCancel(ctx), account)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}
