package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/kafkax"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// cmdWait: `arrears wait --group G [--group G2] [--timeout 5m]` returns when
// every named consumer group has consumed everything committed to its topics.
func cmdWait(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	var groups listFlag
	fs.Var(&groups, "group", "consumer group to wait for (repeatable; default processor.group_id)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		groups = listFlag{cfg.Processor.GroupID}
	}
	start := time.Now()
	if err := kafkax.WaitCaughtUp(ctx, cfg.Kafka, *timeout, groups...); err != nil {
		return err
	}
	fmt.Printf("caught up: %s in %s\n", groups.String(), time.Since(start).Round(time.Millisecond))
	return nil
}
