package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arrears/arrears/processor/kafkax"
)

// This file keeps every account on one partition whatever partitioner its
// producers use (docs/processing.md "Producers and partitioning"). State
// is owned per input partition, and the partition that owns a key is the
// one Kafka's default partitioner gives it: murmur2(key) mod the partition
// count (kafkax.PartitionFor). A producer with another partitioner
// (librdkafka's default is CRC32) puts some of an account's records on
// another partition, where they would build a second state for the account.
// admit finds such a record; refuse forwards it, inside the transaction
// that commits its offset, to the owning partition of the same input topic,
// or dead-letters it (processor.misrouted).

// Headers of a record the processor forwarded to the partition that owns
// its key. HeaderForwardedFrom is "<partition>/<offset>" (ASCII decimal)
// of the misrouted record it copies, in the same topic; HeaderForwardedBy
// is the consumer group (processor.group_id) that forwarded it. A group
// applies only the copies it forwarded itself: another group reading the
// same input (a replay, a rebuild, a test's reference run) forwards the
// original on its own and skips these.
const (
	HeaderForwardedFrom = "arrears_forwarded_from"
	HeaderForwardedBy   = "arrears_forwarded_by"
)

// routeMaxAge is how long a partition count read from the topic's metadata
// is used before it is read again. A rebalance (which adding partitions to a
// subscribed topic causes) makes it stale at once.
const routeMaxAge = time.Minute

// maxLoggedSources bounds the producer sources whose first misrouted
// record is logged.
const maxLoggedSources = 64

// router knows the partition count of the events topic and remembers which
// sources were logged. It is shared by every partition of the process.
type router struct {
	topic string // the events topic
	group string // processor.group_id
	mode  string // processor.misrouted
	log   *slog.Logger

	mu      sync.Mutex
	cl      *kgo.Client // the session's client, set on every assignment
	n       int32       // partition count, 0 while unknown
	read    time.Time   // when n was read
	stale   bool
	sources map[string]bool
}

func newRouter(cfg Config, topic string, log *slog.Logger) *router {
	return &router{topic: topic, group: cfg.GroupID, mode: cfg.Misrouted, log: log, sources: map[string]bool{}}
}

// assigned is called on every rebalance of the session whose client is cl:
// the partition count is read again before the next batch.
func (rt *router) assigned(cl *kgo.Client) {
	rt.mu.Lock()
	rt.cl, rt.stale = cl, true
	rt.mu.Unlock()
}

// partitions returns the events topic's partition count: from memory, or
// from the topic's metadata (one request) after a rebalance or routeMaxAge.
// A failure to read it is transient: the batch is retried.
func (rt *router) partitions(ctx context.Context) (int32, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.n > 0 && !rt.stale && time.Since(rt.read) < routeMaxAge {
		return rt.n, nil
	}
	if rt.cl == nil {
		return 0, fmt.Errorf("partition count of %s: no Kafka session yet", rt.topic)
	}
	// a request of its own, not the client's metadata cache: right after a
	// rebalance the cache may predate the partitions that caused it
	req := kmsg.NewPtrMetadataRequest()
	rq := kmsg.NewMetadataRequestTopic()
	rq.Topic = kmsg.StringPtr(rt.topic)
	req.Topics = append(req.Topics, rq)
	resp, err := req.RequestWith(ctx, rt.cl)
	if err != nil {
		return 0, fmt.Errorf("partition count of %s: %w", rt.topic, err)
	}
	if len(resp.Topics) != 1 {
		return 0, fmt.Errorf("partition count of %s: %d topics in the metadata answer", rt.topic, len(resp.Topics))
	}
	td := resp.Topics[0]
	if err := kerr.ErrorForCode(td.ErrorCode); err != nil {
		return 0, fmt.Errorf("partition count of %s: %w", rt.topic, err)
	}
	if len(td.Partitions) == 0 {
		return 0, fmt.Errorf("partition count of %s: no partitions in metadata", rt.topic)
	}
	if n := int32(len(td.Partitions)); n != rt.n {
		if rt.n != 0 {
			rt.log.Warn("input partition count changed; records are routed by the new count", "topic", rt.topic, "was", rt.n, "now", n)
		}
		rt.n = n
	}
	rt.read, rt.stale = time.Now(), false
	return rt.n, nil
}

// misrouted is admit's verdict on a record that is not on the partition
// its key belongs to, or is another group's forwarded copy. It unwraps to
// the RecordError a dead letter of it carries.
type misrouted struct {
	action string // forward, dead_letter or skip (the metric label)
	on     int32  // the partition it is on
	owner  int32  // the partition its key belongs to
	n      int32  // the partition count
	source string // the event's source, for the log
	rec    *RecordError
}

func (m *misrouted) Error() string { return m.rec.Error() }
func (m *misrouted) Unwrap() error { return m.rec }

// foreign refuses (to skip) a copy another consumer group forwarded: this
// group forwards the original itself, so applying the copy too would apply
// the record twice.
func (rt *router) foreign(r *kgo.Record) error {
	by, ok := header(r, HeaderForwardedBy)
	if !ok && !hasHeader(r, HeaderForwardedFrom) || ok && by == rt.group {
		return nil
	}
	return &misrouted{action: "skip", on: r.Partition, owner: -1, source: "group " + truncate(by, 64),
		rec: rejectf("FORWARDED_ELSEWHERE", "copy forwarded by consumer group %q, not %q: skipped", truncate(by, 64), rt.group)}
}

// check verifies that record r of an account sits on its key's partition
// among n. A misrouted record is forwarded when processor.misrouted says
// so and it is not a copy this group forwarded before; a copy that is
// misrouted again (the partition count changed since) is dead-lettered:
// never forwarded twice.
func (rt *router) check(r *kgo.Record, source string, n int32) error {
	owner := kafkax.PartitionFor(r.Key, n)
	if r.Partition == owner {
		return nil
	}
	m := &misrouted{action: "dead_letter", on: r.Partition, owner: owner, n: n, source: source}
	switch from, again := header(r, HeaderForwardedFrom); {
	case again:
		m.rec = rejectf("MISROUTED", "record forwarded from partition %s is on partition %d, but its key belongs to partition %d of %d (the partition count changed since it was forwarded); not forwarded again",
			truncate(from, 48), r.Partition, owner, n)
	case rt.mode == MisroutedForward:
		m.action = "forward"
		m.rec = rejectf("MISROUTED", "record on partition %d, its key belongs to partition %d of %d: forwarded", r.Partition, owner, n)
	default:
		m.rec = rejectf("MISROUTED", "record on partition %d, but its key belongs to partition %d of %d (Kafka's default murmur2 partitioner; the producer used another, e.g. librdkafka's CRC32); processor.misrouted is %s",
			r.Partition, owner, n, rt.mode)
	}
	return m
}

// header returns the value of r's header key, if it has one.
func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func hasHeader(r *kgo.Record, key string) bool {
	_, ok := header(r, key)
	return ok
}

// refuse handles an input record admit or decode refused: a misrouted
// record is forwarded to the partition that owns its key or dead-lettered,
// another group's copy is skipped; anything else is dead-lettered.
func (pt *partition) refuse(em *emitter, in *input) {
	r := in.rec
	var m *misrouted
	if !errors.As(in.err, &m) {
		pt.deadLetter(em, r, in.ev.Body, in.err)
		return
	}
	pt.d.m.misrouted.WithLabelValues(m.action).Inc()
	pt.d.route.logOnce(r.Topic, m)
	switch m.action {
	case "skip":
	case "forward":
		pt.forward(em, r, m.owner)
	default:
		pt.deadLetter(em, r, in.ev.Body, in.err)
	}
}

// forward produces a copy of r to partition owner of the same topic: key,
// value, timestamp and headers kept, plus where it came from and which
// group forwarded it. It is part of the open transaction, so it exists
// exactly when r's offset is committed; the owner applies it after what
// it already holds.
func (pt *partition) forward(em *emitter, r *kgo.Record, owner int32) {
	from := strconv.AppendInt(nil, int64(r.Partition), 10)
	from = strconv.AppendInt(append(from, '/'), r.Offset, 10)
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+2)
	hs = append(hs, r.Headers...)
	hs = append(hs, kgo.RecordHeader{Key: HeaderForwardedFrom, Value: from},
		kgo.RecordHeader{Key: HeaderForwardedBy, Value: []byte(pt.d.route.group)})
	em.produce(&kgo.Record{Topic: r.Topic, Partition: owner, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: hs})
}

// logOnce logs at Info the first misrouted record of each source (and the
// first copy of each other group), at most maxLoggedSources of them: the
// partitions, never the key.
func (rt *router) logOnce(topic string, m *misrouted) {
	rt.mu.Lock()
	first := !rt.sources[m.source] && len(rt.sources) < maxLoggedSources
	if first {
		rt.sources[m.source] = true
	}
	rt.mu.Unlock()
	switch {
	case !first:
	case m.action == "skip":
		rt.log.Info("skipping records another consumer group forwarded (this group forwards the originals itself)",
			"from", m.source, "topic", topic, "partition", m.on)
	default:
		rt.log.Info("records of this source are not on their key's partition (the producer does not use Kafka's default murmur2 partitioner)",
			"source", truncate(m.source, 64), "topic", topic, "partition", m.on, "owner", m.owner, "partitions", m.n, "action", m.action)
	}
}

// dropControl removes transaction markers from a partition's records. The
// session keeps them (kgo.KeepControlRecords) because the offsets a
// transaction commits are those after the records polled: a marker never
// polled would leave the committed offset one short of the end for good
// (KAFKA-6607), and the input is transactional where this processor
// forwarded records to it. With the marker polled, the commit steps over it
// and the lag reaches 0.
func dropControl(recs []*kgo.Record) []*kgo.Record {
	out := recs[:0]
	for _, r := range recs {
		if !r.Attrs.IsControl() {
			out = append(out, r)
		}
	}
	return out
}
