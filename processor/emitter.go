package processor

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// emitter produces one transaction's output records. It remembers the
// first failure and, per partition, the changelog offset after the last
// status record. Its state is behind its methods: partition goroutines
// produce concurrently, the loop waits and reads.
type emitter struct {
	cl  *kgo.Client
	ctx context.Context

	mu        sync.Mutex
	err       error
	changelog map[int32]int64 // next offset after this transaction's status records
}

func newEmitter(ctx context.Context, cl *kgo.Client) *emitter {
	return &emitter{cl: cl, ctx: ctx, changelog: map[int32]int64{}}
}

// produce sends r into the open transaction.
func (e *emitter) produce(r *kgo.Record) {
	e.cl.Produce(e.ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			e.fail(fmt.Errorf("%w: %s[%d]: %w", errProduce, r.Topic, r.Partition, err))
		}
	})
}

// produceStatus sends a status (changelog) record and tracks where the
// partition's changelog ends once it is acknowledged.
func (e *emitter) produceStatus(r *kgo.Record) {
	e.cl.Produce(e.ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			e.fail(fmt.Errorf("%w: %s[%d]: %w", errProduce, r.Topic, r.Partition, err))
			return
		}
		e.mu.Lock()
		if r.Offset+1 > e.changelog[r.Partition] {
			e.changelog[r.Partition] = r.Offset + 1
		}
		e.mu.Unlock()
	})
}

// fail records err as the transaction's failure unless one is recorded.
func (e *emitter) fail(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// wait blocks until every record produced so far is acknowledged or
// failed, and returns the first failure. Deciding commit or abort only
// after it means a failed produce always aborts: franz-go reports produce
// failures asynchronously, so checking before the flush could commit a
// transaction that lost a record.
func (e *emitter) wait(ctx context.Context) error {
	if err := e.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush outputs: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// changelogEnd is where partition id's changelog ends after this
// transaction's status records, if it wrote any.
func (e *emitter) changelogEnd(id int32) (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, ok := e.changelog[id]
	return o, ok
}
