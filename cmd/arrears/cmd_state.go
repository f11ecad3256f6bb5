package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// cmdState: `arrears state restore [-partitions 0,3]` rebuilds Redis from the
// compacted ar.account.status changelog. `run` does this by itself when it
// finds a partition missing in Redis; this command is for operators (stop
// the processors first: it claims the partitions).
func cmdState(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "restore" {
		return fmt.Errorf("%w: arrears state restore [-partitions LIST]", errUsage)
	}
	fs := flag.NewFlagSet("state restore", flag.ContinueOnError)
	list := fs.String("partitions", "", "comma-separated partitions (default: all)")
	cfg, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	var parts []int32
	for _, s := range strings.Split(*list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("-partitions: %q is not a partition number", s)
		}
		parts = append(parts, int32(n))
	}
	log := newLogger(cfg.Log)
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return err
	}
	rdb, err := redisstore.Connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	start := time.Now()
	n, err := processor.Restore(ctx, cfg.Kafka, redisstore.New(rdb, cfg.Redis.Prefix), codec, log, parts)
	if err != nil {
		return err
	}
	fmt.Printf("restored %d partitions from %s in %s\n", n, cfg.Kafka.Topics.Status, time.Since(start).Round(time.Millisecond))
	return nil
}
