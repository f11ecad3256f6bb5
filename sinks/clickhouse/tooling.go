package chsink

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// This file is exported for tooling only (`arrears bench` measures
// ClickHouse's insert rate on the very rows the sink inserted); the sink
// itself does not use it.

// Decoder turns records of the sink's topics into analytics rows exactly as
// the sink does.
type Decoder struct{ d decoder }

// NewDecoder decodes the records of the topics the sink consumes (Topics),
// skipping repeated status rows as a sink with the default
// status_dedup_accounts does.
func NewDecoder(codec *schemas.Codec, t kafkax.Topics, keepTicks bool) *Decoder {
	return &Decoder{decoder{codec: codec, kinds: topicKinds(t), keepTicks: keepTicks,
		status: newStatusDedup(Defaults().StatusDedupAccounts), groups: newGroupClock(nil)}}
}

// Topics lists the topics the sink consumes: the accepted-events topic and
// the processor's outputs (not the raw inputs).
func (d *Decoder) Topics() []string { return d.d.topics() }

// Rows decodes rec as the sink would at time now; a record of a topic the
// sink does not consume gives no rows.
func (d *Decoder) Rows(ctx context.Context, rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	return d.d.rows(ctx, rec, now)
}
