package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/sinks/redisstore"
)

// cmdExplain: `arrears explain ACCOUNT [-at RFC3339]` prints the account's
// stage, open items, next action and when, and why, from Redis.
func cmdExplain(ctx context.Context, args []string) error {
	e, err := explainAccount(ctx, "explain", args)
	if err != nil {
		return err
	}
	fmt.Print(e.String())
	explainGroup(ctx, os.Stdout, args, e.AsOf) // cmd_groups.go
	return nil
}

// explainAccount loads an account from Redis and explains it.
func explainAccount(ctx context.Context, name string, args []string) (core.Explanation, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	at := fs.String("at", "", "explain as of this RFC 3339 instant (default: the partition clock)")
	var acct string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		acct, args = args[0], args[1:]
	}
	cfg, err := config.Load(fs, args)
	if err != nil {
		return core.Explanation{}, err
	}
	if acct == "" && fs.NArg() > 0 {
		acct = fs.Arg(0)
	}
	if acct == "" {
		return core.Explanation{}, fmt.Errorf("%w: arrears %s ACCOUNT [-at TIME]", errUsage, name)
	}
	env, err := loadEnv(cfg)
	if err != nil {
		return core.Explanation{}, err
	}
	if err := withVersions(ctx, cfg, env); err != nil { // as `arrears run` decides
		return core.Explanation{}, err
	}
	part, nparts, err := partitionOf(ctx, cfg, acct)
	if err != nil {
		return core.Explanation{}, err
	}
	rdb, err := redisstore.Connect(ctx, cfg.Redis)
	if err != nil {
		return core.Explanation{}, err
	}
	defer rdb.Close()
	store := redisstore.New(rdb, cfg.Redis.Prefix)
	// The account lives where its producer's partitioner put it: Kafka's
	// default (murmur2) first, then every other partition.
	var v []byte
	ok := false
	for i := 0; i < nparts && !ok; i++ {
		p := (part + int32(i)) % int32(nparts)
		vals, err := store.Load(ctx, p, 0, []string{acct})
		if err != nil {
			return core.Explanation{}, err
		}
		if st, found := vals[acct]; found {
			v, part, ok = st.State, p, true
		}
	}
	if !ok {
		return core.Explanation{}, fmt.Errorf("account %s not found in Redis (prefix %s)", acct, cfg.Redis.Prefix)
	}
	st := core.State{Account: acct} // the encoded state does not carry the id
	if err := st.UnmarshalBinary(v); err != nil {
		return core.Explanation{}, fmt.Errorf("decode state of %s: %w", acct, err)
	}
	now := time.Now().UTC()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return core.Explanation{}, fmt.Errorf("-at: %w", err)
		}
	} else if m, err := store.Peek(ctx, part); err == nil && m.Clock > 0 {
		now = time.UnixMilli(m.Clock).UTC()
	}
	return core.Explain(&st, now, env), nil
}

// partitionOf is the input partition of an account: kafkax.PartitionFor
// over the events topic's partition count.
func partitionOf(ctx context.Context, cfg config.Config, acct string) (int32, int, error) {
	cl, err := kgo.NewClient(cfg.Kafka.ClientOpts()...)
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).ListTopics(ctx, cfg.Kafka.Topics.Events)
	if err != nil {
		return 0, 0, err
	}
	t, ok := md[cfg.Kafka.Topics.Events]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return 0, 0, fmt.Errorf("topic %s not found", cfg.Kafka.Topics.Events)
	}
	n := len(t.Partitions)
	return kafkax.PartitionFor([]byte(acct), int32(n)), n, nil
}
