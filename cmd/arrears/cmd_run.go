package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// cmdRun: `arrears run`, the collections processor.
func cmdRun(ctx context.Context, args []string) error {
	cfg, err := config.Load(flag.NewFlagSet("run", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	reg := newRegistry()
	limit, from, err := processor.SetMemoryLimit(cfg.Processor)
	if err != nil {
		return err
	}
	log.Info("memory limit", "bytes", limit, "from", from)

	// The inputs and the changelog must be co-partitioned: state is owned per
	// input partition and restored from the same changelog partition.
	// TLS, SASL and the group's ACL checked before anything else starts.
	if err := kafkax.Ping(ctx, cfg.Kafka, cfg.Processor.GroupID); err != nil {
		return err
	}
	admCl, err := kgo.NewClient(cfg.Kafka.ClientOpts()...)
	if err != nil {
		return err
	}
	nparts, err := kafkax.CheckTopics(ctx, kadm.NewClient(admCl), cfg.Kafka)
	admCl.Close()
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	log.Info("topics checked", "partitions", nparts)

	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return fmt.Errorf("codec: %w", err)
	}
	rdb, err := redisstore.Connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	store := redisstore.New(rdb, cfg.Redis.Prefix)
	env, err := loadEnv(cfg)
	if err != nil {
		return err
	}
	env.SkipExplanations = true // the live path never reads decisions' explanations
	for _, u := range cfg.Processor.Groups.UnknownConditions(env.Policies) {
		log.Warn("a policy holds stages on a group condition processor.groups.conditions does not define (or the group stage is off): it never holds", "hold", u)
	}
	proc, err := processor.New(cfg.ProcessorConfig(), cfg.Kafka, store, codec, env, processor.NewMetrics(reg), log)
	if err != nil {
		return err
	}
	// the published policy versions over the files (docs/policies.md "Lifecycle")
	feed, err := processor.NewPolicyFeed(cfg.Kafka, env.Policies, schemas.DecodePolicy, log)
	if err != nil {
		return err
	}
	defer feed.Close()
	proc.UsePolicies(feed)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return proc.Run(gctx) })
	if cfg.Processor.Groups.Enabled { // the group stage in the same process (docs/processing.md "Collections groups")
		gs, err := processor.NewGroupStage(cfg.ProcessorConfig(), cfg.Kafka, redisstore.New(rdb, processor.GroupStorePrefix(cfg.Redis.Prefix)), reg, log)
		if err != nil {
			return err
		}
		gs.PublishEvents(codec) // the group events for group-level policies
		g.Go(func() error { return gs.Run(gctx) })
	}
	if cfg.Processor.TickInterval > 0 {
		g.Go(func() error { return runTicker(gctx, cfg, codec, proc.Owned, log) })
	}
	g.Go(func() error {
		return serveOps(gctx, cfg.HTTP, reg, log, []check{
			{"redis", store.Ping},
			{"kafka", func(context.Context) error {
				if proc.Stalled() {
					return fmt.Errorf("stalled: input waiting and nothing committed for processor.stall_timeout")
				}
				if !proc.Ready() {
					return fmt.Errorf("not joined yet")
				}
				return nil
			}},
		}, nil)
	})
	return g.Wait()
}
