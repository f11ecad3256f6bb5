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
	return (&acceptedRecord{}).set(topic, part, r)
}

func (a *acceptedRecord) set(topic string, part int32, r *kgo.Record) *kgo.Record {
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
	return (&keyRecord{}).set(topic, part, key, v)
}

func (k *keyRecord) set(topic string, part int32, key string, v []byte) *kgo.Record {
	k.rec = kgo.Record{Topic: topic, Partition: part, Key: append(k.key[:0:len(k.key)], key...), Value: v}
	return &k.rec
}

// records hands out one partition's output records for a batch and takes
// them back once its transaction ended well (Processor.transact), instead
// of allocating about two records an event: the flush before the commit
// ran every promise, and franz-go keeps no reference to a record after its
// promise. After a failed transaction promises may still be outstanding,
// so partition.reset drops them instead.
type records struct {
	keyed    []*keyRecord
	accepted []*acceptedRecord
	nk, na   int
}

// reuse takes back the records handed out, emptied (a kept value would
// hold its buffer, an accepted copy's the input fetch's, until reused),
// and keeps as many as this batch used: a burst's records go with it
// (kept for good, they held 35 MB of heap in the bench).
func (rs *records) reuse() {
	for _, k := range rs.keyed[:rs.nk] {
		k.rec = kgo.Record{}
	}
	for _, a := range rs.accepted[:rs.na] {
		a.rec, a.hdrs = kgo.Record{}, [3]kgo.RecordHeader{}
	}
	clear(rs.keyed[rs.nk:])
	clear(rs.accepted[rs.na:])
	rs.keyed, rs.accepted = rs.keyed[:rs.nk], rs.accepted[:rs.na]
	rs.nk, rs.na = 0, 0
}

// keyedRecord is keyedRecord, in a reused record.
func (rs *records) keyedRecord(topic string, part int32, key string, v []byte) *kgo.Record {
	if rs.nk == len(rs.keyed) {
		rs.keyed = append(rs.keyed, &keyRecord{})
	}
	rs.nk++
	return rs.keyed[rs.nk-1].set(topic, part, key, v)
}

// acceptedCopy is acceptedCopy, in a reused record.
func (rs *records) acceptedCopy(topic string, part int32, r *kgo.Record) *kgo.Record {
	if rs.na == len(rs.accepted) {
		rs.accepted = append(rs.accepted, &acceptedRecord{})
	}
	rs.na++
	return rs.accepted[rs.na-1].set(topic, part, r)
}
