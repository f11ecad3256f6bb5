package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// KafkaPublisher produces operator events to the events topic with the
// partitioner every arrears producer uses (kafkax.KeyOrExplicit), so an
// account's events land on the partition that owns its state. Before it
// produces, it decodes its own encoding with the processor's codec: an
// event the processor would refuse (a bound of schemas.Config) is refused
// here instead, and nothing unvalidated reaches Kafka.
type KafkaPublisher struct {
	cl    *kgo.Client
	codec *schemas.Codec
	topic string
}

// NewKafkaPublisher connects a producer (idempotent, acks=all: franz-go's
// defaults) for c.Topics.Events.
func NewKafkaPublisher(c kafkax.Config, codec *schemas.Codec) (*KafkaPublisher, error) {
	cl, err := kgo.NewClient(append(c.ClientOpts(), kgo.RecordPartitioner(kafkax.KeyOrExplicit()),
		kgo.ProducerLinger(0))...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &KafkaPublisher{cl: cl, codec: codec, topic: c.Topics.Events}, nil
}

// Close closes the producer.
func (p *KafkaPublisher) Close() { p.cl.Close() }

// ErrRefused wraps the codec's refusal of an event the API built (a bound
// the request's validation did not know).
var ErrRefused = errors.New("event refused by the codec")

// Publish implements Publisher.
func (p *KafkaPublisher) Publish(ctx context.Context, ev event.Event) (int32, int64, error) {
	b, err := p.codec.EncodeEvent(ctx, p.topic, ev)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: encode %s: %w", ErrRefused, ev.Body.Kind(), err)
	}
	if _, err := p.codec.DecodeEvent(ctx, b); err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %w", ErrRefused, ev.Body.Kind(), err)
	}
	res := p.cl.ProduceSync(ctx, &kgo.Record{Topic: p.topic, Key: []byte(ev.Account), Value: b})
	r, err := res.First()
	if err != nil {
		return 0, 0, fmt.Errorf("produce %s to %s: %w", ev.Body.Kind(), p.topic, err)
	}
	return r.Partition, r.Offset, nil
}

// RedisState reads accounts the processor stored in Redis (redisstore),
// on the partition kafkax.PartitionFor gives over the events topic's
// partition count, as `arrears explain` does.
type RedisState struct {
	store   *redisstore.Store
	topic   string
	nparts  int32
	timeout time.Duration
}

// NewRedisState reads the events topic's partition count once (it does
// not change under a running processor: the state layout depends on it).
func NewRedisState(ctx context.Context, c kafkax.Config, store *redisstore.Store) (*RedisState, error) {
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin: %w", err)
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).ListTopics(ctx, c.Topics.Events)
	if err != nil {
		return nil, fmt.Errorf("list topic %s: %w", c.Topics.Events, c.Explain(err))
	}
	t, ok := md[c.Topics.Events]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return nil, fmt.Errorf("topic %s not found", c.Topics.Events)
	}
	return &RedisState{store: store, topic: c.Topics.Events, nparts: int32(len(t.Partitions))}, nil
}

// Account implements StateReader.
func (s *RedisState) Account(ctx context.Context, id string) (Loaded, error) {
	p := kafkax.PartitionFor([]byte(id), s.nparts)
	vals, err := s.store.Load(ctx, p, 0, []string{id})
	if err != nil {
		return Loaded{}, err
	}
	st, ok := vals[id]
	if !ok {
		return Loaded{}, ErrUnknownAccount
	}
	l := Loaded{Partition: p, Applied: -1}
	l.State.Account = id
	if err := l.State.UnmarshalBinary(st.State); err != nil {
		return Loaded{}, fmt.Errorf("decode state: %w", err)
	}
	m, err := s.store.Peek(ctx, p)
	if err != nil {
		return Loaded{}, err
	}
	if off, ok := m.Applied[s.topic]; ok {
		l.Applied = off
	}
	if m.Clock > 0 {
		l.Clock = time.UnixMilli(m.Clock).UTC()
	}
	return l, nil
}

// Applied implements StateReader.
func (s *RedisState) Applied(ctx context.Context, p int32) (int64, error) {
	m, err := s.store.Peek(ctx, p)
	if err != nil {
		return -1, err
	}
	if off, ok := m.Applied[s.topic]; ok {
		return off, nil
	}
	return -1, nil
}
