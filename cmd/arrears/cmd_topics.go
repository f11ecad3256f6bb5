package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/kafkax"
)

// cmdTopics: `arrears topics create|check|delete [-partitions N] [-yes]`:
// create the topics, verify that inputs and changelog are co-partitioned, or
// delete every arrears topic (only with -yes).
func cmdTopics(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "acls" {
		return cmdTopicsACLs(ctx, args[1:])
	}
	if len(args) == 0 || (args[0] != "create" && args[0] != "check" && args[0] != "delete") {
		return fmt.Errorf("%w: arrears topics create|check|delete|acls [-config FILE] [-partitions N] [-yes]", errUsage)
	}
	fs := flag.NewFlagSet("topics "+args[0], flag.ContinueOnError)
	parts := fs.Int("partitions", 0, "partition count for created topics (default: kafka.partitions, 12)")
	yes := fs.Bool("yes", false, "confirm `topics delete` (it deletes every arrears topic and its data)")
	cfg, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	if *parts > 0 {
		cfg.Kafka.Partitions = *parts
	}
	cl, err := kgo.NewClient(cfg.Kafka.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if args[0] == "delete" {
		if !*yes {
			return fmt.Errorf("topics delete removes every arrears topic and its data: add -yes")
		}
		all := append(cfg.Kafka.Topics.Inputs(), append(cfg.Kafka.Topics.Outputs(), cfg.Kafka.Topics.Policies)...)
		all = append(all, cfg.Kafka.Topics.Groups()...) // a stale group changelog would restore stale nodes
		resp, err := adm.DeleteTopics(ctx, all...)
		if err != nil {
			return err
		}
		for _, r := range resp.Sorted() {
			if r.Err == nil {
				fmt.Println("deleted", r.Topic)
			}
		}
		// deletion is asynchronous in the broker: wait until they are gone
		for i := 0; i < 60; i++ {
			md, err := adm.ListTopics(ctx, all...)
			if err == nil && len(md) == 0 {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		return nil
	}
	if args[0] == "create" {
		created, err := kafkax.CreateTopics(ctx, adm, cfg.Kafka)
		if err != nil {
			return err
		}
		for _, t := range created {
			fmt.Println("created", t)
		}
	}
	// Freshly created topics take a moment to appear in metadata.
	var n int
	for i := 0; ; i++ {
		if n, err = kafkax.CheckTopics(ctx, adm, cfg.Kafka); err == nil || i == 30 || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	fmt.Printf("ok: %d topics, inputs and changelog co-partitioned with %d partitions\n", len(cfg.Kafka.Topics.Inputs())+len(cfg.Kafka.Topics.Outputs()), n)
	return nil
}
