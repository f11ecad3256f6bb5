package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// runTicker publishes a ClockTick with the wall-clock time to every partition
// of the events topic this instance owns, at processor.tick_interval, so
// dunning timers fire in production even when no other input arrives. With
// several instances each ticks its own partitions. Ticks are ordinary input:
// replaying them replays time.
func runTicker(ctx context.Context, cfg config.Config, codec *schemas.Codec, owned func() []int32, log *slog.Logger) error {
	topic := cfg.Kafka.Topics.Events
	cl, err := kgo.NewClient(append(cfg.Kafka.ClientOpts(), kgo.RecordPartitioner(kafkax.KeyOrExplicit()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	t := time.NewTicker(cfg.Processor.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			for _, p := range owned() {
				ev := event.Event{
					ID:   fmt.Sprintf("tick-%d-%d", p, now.UnixMilli()),
					Time: now.UTC(), Source: cfg.Processor.TickSource, Body: &event.ClockTick{Partition: p},
				}
				v, err := codec.EncodeEvent(ctx, topic, ev)
				if err != nil {
					return fmt.Errorf("encode tick: %w", err)
				}
				cl.Produce(ctx, &kgo.Record{Topic: topic, Partition: p, Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						log.Warn("ticker: produce failed", "partition", p, "err", err)
					}
				})
			}
		}
	}
}
