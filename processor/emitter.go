package processor

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
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

	// the produce callbacks, built once: a closure per record would be
	// an allocation per output record
	onOutput, onStatus func(*kgo.Record, error)
}

func newEmitter(ctx context.Context, cl *kgo.Client) *emitter {
	e := &emitter{cl: cl, ctx: ctx, changelog: map[int32]int64{}}
	e.onOutput, e.onStatus = e.produced, e.producedStatus
	return e
}

// produce sends r into the open transaction.
func (e *emitter) produce(r *kgo.Record) { e.cl.Produce(e.ctx, r, e.onOutput) }

// produceStatus sends a status (changelog) record and tracks where the
// partition's changelog ends once it is acknowledged.
func (e *emitter) produceStatus(r *kgo.Record) { e.cl.Produce(e.ctx, r, e.onStatus) }

// produced records a failed output record as the transaction's failure.
func (e *emitter) produced(r *kgo.Record, err error) {
	if err != nil {
		e.fail(fmt.Errorf("%w: %s[%d]: %w", errProduce, r.Topic, r.Partition, err))
	}
}

// producedStatus is produced for a status record, which also moves the
// partition's changelog end.
func (e *emitter) producedStatus(r *kgo.Record, err error) {
	if err != nil {
		e.produced(r, err)
		return
	}
	e.mu.Lock()
	if r.Offset+1 > e.changelog[r.Partition] {
		e.changelog[r.Partition] = r.Offset + 1
	}
	e.mu.Unlock()
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

// acceptedRecord is an accepted-events record with its headers and their
// values, allocated together: one allocation per accepted event instead of
// five (record, header slice, three values).
type acceptedRecord struct {
	rec  kgo.Record
	hdrs [3]kgo.RecordHeader
	buf  [64]byte // the headers' values: source topic, partition, offset
}

// acceptedCopy is r, value unchanged, for topic's partition part, with
// r's coordinates in the kafkax.HeaderSrc* headers.
func acceptedCopy(topic string, part int32, r *kgo.Record) *kgo.Record {
	a := &acceptedRecord{}
	b := append(a.buf[:0], r.Topic...)
	nt := len(b)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	np := len(b)
	b = strconv.AppendInt(b, r.Offset, 10) // b's array is a.buf unless it outgrew it
	a.hdrs = [3]kgo.RecordHeader{
		{Key: kafkax.HeaderSrcTopic, Value: b[:nt:nt]},
		{Key: kafkax.HeaderSrcPartition, Value: b[nt:np:np]},
		{Key: kafkax.HeaderSrcOffset, Value: b[np:len(b):len(b)]},
	}
	a.rec = kgo.Record{Topic: topic, Partition: part, Key: r.Key, Value: r.Value, Headers: a.hdrs[:]}
	return &a.rec
}

// keyRecord is a record with room for a short key, allocated together.
type keyRecord struct {
	rec kgo.Record
	key [24]byte
}

// keyedRecord is a record of topic with key and value v, in one
// allocation when the key is short (account ids are). part matters only
// on the topics the partitioner leaves explicit (kafkax.KeyOrExplicit).
func keyedRecord(topic string, part int32, key string, v []byte) *kgo.Record {
	k := &keyRecord{}
	k.rec = kgo.Record{Topic: topic, Partition: part, Key: append(k.key[:0:len(k.key)], key...), Value: v}
	return &k.rec
}
