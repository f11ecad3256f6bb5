package main

import (
	"context"
	"flag"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
)

// cmdSink: `arrears sink`, lands the accepted events and the output topics
// in ClickHouse (own consumer group, read_committed).
func cmdSink(ctx context.Context, args []string) error {
	cfg, err := config.Load(flag.NewFlagSet("sink", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	reg := newRegistry()
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return fmt.Errorf("codec: %w", err)
	}
	// TLS, SASL and the ACLs on the topics and the group checked first.
	if err := kafkax.Ping(ctx, cfg.Kafka, cfg.Sink.GroupID, cfg.Kafka.Topics.Outputs()...); err != nil {
		return err
	}
	s, err := chsink.New(ctx, cfg.SinkConfig(), cfg.Kafka, codec, reg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.Run(gctx) })
	g.Go(func() error {
		return serveOps(gctx, cfg.HTTP, reg, log, []check{
			{"clickhouse", s.Ping},
			{"kafka", func(context.Context) error {
				if !s.Ready() {
					return fmt.Errorf("not joined yet")
				}
				return nil
			}},
			{"progress", func(context.Context) error {
				if s.Stalled() {
					return fmt.Errorf("records waiting with no commit for over sink.stall_timeout")
				}
				return nil
			}},
		}, nil)
	})
	return g.Wait()
}
