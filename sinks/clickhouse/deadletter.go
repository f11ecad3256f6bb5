package chsink

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/schemas"
)

// deadLetter sends the dead letter of d.rec to the DLQ once and returns;
// metricClass (decode, reject) labels dead_lettered_total. The dead letter
// is event.NewDeadLetter's: at most Config.DLQMaxPayload bytes of the value
// plus its size and SHA-256, so it fits a Kafka record. What classify says
// about the produce decides the rest:
//   - retry (broker unavailable, timeouts, the registry for the encoding):
//     backoff, retries_total{table="dlq"}, Stalled after StallTimeout;
//   - deadLetter (the broker refuses the record itself, e.g. a topic whose
//     max.message.bytes is below the payload): sent again once with no
//     payload at all (size and SHA-256 still name the value); refused
//     again, it is dropped with an Error log and dead_lettered_total{dropped};
//   - fatal (authorisation, a dead letter that cannot be encoded with its
//     schema): returned, Run stops.
//
// Records of the DLQ topic itself are never dead-lettered again: a bad
// dead letter is dropped (logged, counted), so it cannot loop. No log line
// above Debug carries the record's key, value or the reason (which may
// quote the value); they are at Debug with the coordinates.
func (s *Sink) deadLetter(ctx context.Context, d deadRecord, metricClass string) error {
	rec := d.rec
	if rec.Topic == s.kcfg.Topics.DLQ {
		s.m.DeadLettered.WithLabelValues(rec.Topic, "dropped").Inc()
		s.log.Error("dropping unusable dead letter", "partition", rec.Partition, "offset", rec.Offset, "class", string(classify(d.err)))
		s.log.Debug("unusable dead letter", "partition", rec.Partition, "offset", rec.Offset, "err", d.err)
		return nil
	}
	dl := event.NewDeadLetter(d.src.Topic, d.src.Partition, d.src.Offset, rec.Key, rec.Value, "sink", d.code, d.err.Error(),
		time.Now().UTC(), s.cfg.DLQMaxPayload)
	where := func(args ...any) []any {
		return append([]any{"topic", d.src.Topic, "partition", d.src.Partition, "offset", d.src.Offset, "code", d.code}, args...)
	}
	bare := false
	for delay := s.cfg.RetryInitial; ; {
		b, err := s.codec.EncodeDeadLetter(ctx, s.kcfg.Topics.DLQ, dl)
		if err != nil && !schemas.Transient(err) {
			return fmt.Errorf("encode dead letter for %s/%d@%d: %w", d.src.Topic, d.src.Partition, d.src.Offset, err)
		}
		if err == nil {
			err = s.produce(ctx, dl.Key, b)
		}
		switch classify(err) {
		case "":
			s.m.DeadLettered.WithLabelValues(rec.Topic, metricClass).Inc()
			s.log.Info("record dead-lettered", where("class", metricClass, "value_bytes", len(rec.Value), "truncated", dl.Truncated)...)
			s.log.Debug("dead letter", where("reason", dl.Reason, "key", string(dl.Key))...)
			return nil
		case fatal:
			return fmt.Errorf("dead-letter %s/%d@%d: %w", d.src.Topic, d.src.Partition, d.src.Offset, err)
		case deadLetter:
			if !bare {
				bare = true
				dl.Value, dl.Truncated = []byte{}, true
				s.log.Warn("DLQ refused the dead letter; sending it without payload", where("err", err)...)
				continue
			}
			s.m.DeadLettered.WithLabelValues(rec.Topic, "dropped").Inc()
			s.log.Error("DLQ refused even the bare dead letter; dropped", where("err", err)...)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("dead-letter %s/%d@%d: %w", d.src.Topic, d.src.Partition, d.src.Offset, ctx.Err())
		}
		s.m.Retries.WithLabelValues("dlq").Inc()
		s.log.Warn("dead-letter produce failed, retrying", where("retry_in", delay, "err", err)...)
		if serr := sleep(ctx, jitter(delay)); serr != nil {
			return fmt.Errorf("dead-letter %s/%d@%d: %w", d.src.Topic, d.src.Partition, d.src.Offset, serr)
		}
		delay = min(2*delay, s.cfg.RetryMax)
	}
}

func (s *Sink) produce(ctx context.Context, key, value []byte) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.InsertTimeout)
	defer cancel()
	return s.cl.ProduceSync(pctx, &kgo.Record{Topic: s.kcfg.Topics.DLQ, Key: key, Value: value}).FirstErr()
}
