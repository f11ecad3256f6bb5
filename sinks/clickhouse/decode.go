package chsink

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// topicKind is what a topic carries.
type topicKind uint8

const (
	kindEvents topicKind = iota + 1
	kindActions
	kindRisk
	kindStatus
	kindGL
	kindDLQ
)

// topicKinds maps every consumed topic to its record type.
func topicKinds(t kafkax.Topics) map[string]topicKind {
	m := map[string]topicKind{t.Actions: kindActions, t.Risk: kindRisk, t.Status: kindStatus, t.GL: kindGL, t.DLQ: kindDLQ}
	for _, in := range t.Inputs() {
		m[in] = kindEvents
	}
	return m
}

// decoder turns records into analytics rows.
type decoder struct {
	codec     *schemas.Codec
	kinds     map[string]topicKind
	keepTicks bool
}

// rows decodes rec. A tombstone (nil value, e.g. on the compacted status
// topic) and, unless keepTicks, a ClockTick give no rows. Errors are the
// codec's: schemas.Transient ones may succeed on retry, others are the
// record's fault.
func (d *decoder) rows(ctx context.Context, rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	if rec.Value == nil {
		return nil, nil
	}
	src := analytics.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
	switch d.kinds[rec.Topic] {
	case kindEvents:
		ev, err := d.codec.DecodeEvent(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		if ev.Body == nil {
			return nil, fmt.Errorf("decode event %s: no payload", ev.ID)
		}
		if ev.Body.Kind() == event.KindClockTick && !d.keepTicks {
			return nil, nil
		}
		return analytics.EventRows(ev, src, now), nil
	case kindActions:
		a, err := d.codec.DecodeAction(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode dunning action: %w", err)
		}
		return []analytics.Row{analytics.ActionRow(&a, src, now)}, nil
	case kindRisk:
		r, err := d.codec.DecodeRisk(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode risk event: %w", err)
		}
		return []analytics.Row{analytics.RiskRow(&r, src, now)}, nil
	case kindStatus:
		s, err := d.codec.DecodeStatus(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode account status: %w", err)
		}
		rows := []analytics.Row{analytics.StatusRow(&s, src, now)}
		// the risk features at the record's time, from the state it
		// carries; a state this build cannot read costs the feature row
		// only, never the status row
		var st core.State
		if len(s.State) > 0 && st.UnmarshalBinary(s.State) == nil {
			rows = append(rows, analytics.RiskFeaturesRow(&s, st.Features(s.Time), src, now))
		}
		return rows, nil
	case kindGL:
		g, err := d.codec.DecodeGL(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode GL entry: %w", err)
		}
		return []analytics.Row{analytics.GLRow(&g, src, now)}, nil
	case kindDLQ:
		dl, err := d.codec.DecodeDeadLetter(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode dead letter: %w", err)
		}
		return []analytics.Row{analytics.DeadLetterRow(&dl, src, now)}, nil
	}
	return nil, fmt.Errorf("topic %q is not consumed by the sink", rec.Topic)
}

// Decoder turns records of the sink's topics into analytics rows exactly as
// the sink does; `arrears bench` uses it to measure ClickHouse's insert rate
// on the very rows the sink inserted.
type Decoder struct{ d decoder }

// NewDecoder decodes the records of t's input and output topics.
func NewDecoder(codec *schemas.Codec, t kafkax.Topics, keepTicks bool) *Decoder {
	return &Decoder{decoder{codec: codec, kinds: topicKinds(t), keepTicks: keepTicks}}
}

// Rows decodes rec as the sink would at time now.
func (d *Decoder) Rows(ctx context.Context, rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	return d.d.rows(ctx, rec, now)
}
