package chsink

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	kindPolicies
	kindGroups
)

// topicKinds maps every consumed topic to its record type (the group
// changelog only when t.GroupChangelog is set: New clears it when the topic
// does not exist). Facts come from
// the accepted-events topic, never from the raw inputs: the processor
// copies there, in its transaction, exactly the input records it applied,
// so a record it rejected (and dead-lettered) can never reach analytics.
func topicKinds(t kafkax.Topics) map[string]topicKind {
	m := map[string]topicKind{t.Accepted: kindEvents, t.Actions: kindActions, t.Risk: kindRisk, t.Status: kindStatus,
		t.GL: kindGL, t.DLQ: kindDLQ}
	if t.Policies != "" { // the policy versions (migration 0011)
		m[t.Policies] = kindPolicies
	}
	if t.GroupChangelog != "" { // the group exposure history (migration 0012)
		m[t.GroupChangelog] = kindGroups
	}
	return m
}

// The headers the processor puts on every accepted record: the input
// record's coordinates, the partition and offset in ASCII decimal.
const (
	headerSrcTopic     = kafkax.HeaderSrcTopic
	headerSrcPartition = kafkax.HeaderSrcPartition
	headerSrcOffset    = kafkax.HeaderSrcOffset
)

// source is where rec's facts come from: for an accepted record, the input
// record named by its src_* headers (so events rows and the timeline point
// at the original input offset); otherwise, or when a header is missing or
// unreadable (ok false), rec itself.
func (d *decoder) source(rec *kgo.Record) (src analytics.Source, ok bool) {
	own := analytics.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
	if d.kinds[rec.Topic] != kindEvents {
		return own, true
	}
	var seen int
	for _, h := range rec.Headers {
		switch h.Key {
		case headerSrcTopic:
			if len(h.Value) > 0 && len(h.Value) <= 255 {
				src.Topic = string(h.Value)
				seen |= 1
			}
		case headerSrcPartition:
			if p, err := strconv.ParseInt(string(h.Value), 10, 32); err == nil && p >= 0 {
				src.Partition = int32(p)
				seen |= 2
			}
		case headerSrcOffset:
			if o, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil && o >= 0 {
				src.Offset = o
				seen |= 4
			}
		}
	}
	if seen != 7 {
		return own, false
	}
	return src, true
}

// decoder turns records into analytics rows.
type decoder struct {
	codec     *schemas.Codec
	kinds     map[string]topicKind
	keepTicks bool
	status    *statusDedup // nil: every status record lands its row
	groups    *groupClock  // nil: a group tombstone keeps its record's timestamp
}

// rows decodes rec. A record of a topic the sink does not consume, a tombstone (nil value, e.g. on the compacted status
// topic) and, unless keepTicks, a ClockTick give no rows; a status record
// whose analyst-visible columns repeat the account's last landed row gives
// its risk-features row only (statusdedup.go). Errors are the
// codec's: schemas.Transient ones may succeed on retry, others are the
// record's fault.
func (d *decoder) rows(ctx context.Context, rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	if d.kinds[rec.Topic] == kindGroups { // a tombstone too: the group's end
		return d.groupRows(ctx, rec, now)
	}
	if rec.Value == nil {
		return nil, nil
	}
	src, _ := d.source(rec)
	switch d.kinds[rec.Topic] {
	case kindEvents:
		ev, err := d.codec.DecodeEvent(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		if ev.Body == nil {
			return nil, fmt.Errorf("decode event: %w", errNoPayload)
		}
		if ev.Body.Kind() == event.KindClockTick && !d.keepTicks {
			return nil, nil
		}
		own := analytics.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
		return append(analytics.EventRows(ev, src, now), analytics.EventRecordRow(ev, own, rec.Value, now)), nil
	case kindActions:
		return oneRow(ctx, rec.Value, "dunning action", d.codec.DecodeAction,
			func(a *event.DunningAction) analytics.Row { return analytics.ActionRow(a, src, now) })
	case kindRisk:
		return oneRow(ctx, rec.Value, "risk event", d.codec.DecodeRisk,
			func(r *event.RiskEvent) analytics.Row { return analytics.RiskRow(r, src, now) })
	case kindStatus:
		s, err := d.codec.DecodeStatus(ctx, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode account status: %w", err)
		}
		var rows []analytics.Row
		if sr := analytics.StatusRow(&s, src, now); d.status.land(s.Account, sr) {
			rows = append(rows, sr)
		}
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
		rows := []analytics.Row{analytics.GLRow(&g, src, now)}
		if dn, ok := analytics.DebitNoteRow(&g, src, now); ok { // interest and fees: output rows (analytics/debitnotes.go)
			rows = append(rows, dn)
		}
		return rows, nil
	case kindDLQ:
		return oneRow(ctx, rec.Value, "dead letter", d.codec.DecodeDeadLetter,
			func(dl *event.DeadLetter) analytics.Row { return analytics.DeadLetterRow(dl, src, now) })
	case kindPolicies:
		r, err := schemas.DecodePolicy(rec.Value)
		if err != nil {
			return nil, fmt.Errorf("decode policy record: %w", err)
		}
		return analytics.PolicyRows(r, now), nil
	}
	// not a topic of the sink's: it lands nothing from it
	return nil, nil
}

// oneRow decodes a record of an output topic into its one row.
func oneRow[T any](ctx context.Context, v []byte, what string, decode func(context.Context, []byte) (T, error), row func(*T) analytics.Row) ([]analytics.Row, error) {
	x, err := decode(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return []analytics.Row{row(&x)}, nil
}

// topics lists the consumed topics, sorted.
func (d *decoder) topics() []string {
	ts := make([]string, 0, len(d.kinds))
	for t := range d.kinds {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}
