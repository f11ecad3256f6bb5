package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// cmdGroups: `arrears groups run|show` (docs/processing.md "Collections groups").
func cmdGroups(ctx context.Context, args []string) error {
	usage := fmt.Errorf("%w: arrears groups run | groups show GROUP [-at DATE] [-children]", errUsage)
	if len(args) == 0 {
		return usage
	}
	switch args[0] {
	case "run":
		return groupsRun(ctx, args[1:])
	case "show":
		return groupsShow(ctx, os.Stdout, args[1:])
	}
	return usage
}

// groupsRun runs the group stage without the account stage (an instance
// that only aggregates groups; `arrears run` runs both when enabled).
func groupsRun(ctx context.Context, args []string) error {
	cfg, err := config.Load(flag.NewFlagSet("groups run", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	pcfg := cfg.ProcessorConfig()
	if err := kafkax.Ping(ctx, cfg.Kafka, pcfg.Groups.GroupID); err != nil {
		return err
	}
	rdb, err := redisstore.Connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	gs, err := processor.NewGroupStage(pcfg, cfg.Kafka, redisstore.New(rdb, processor.GroupStorePrefix(cfg.Redis.Prefix)), nil, log)
	if err != nil {
		return err
	}
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return fmt.Errorf("codec: %w", err)
	}
	gs.PublishEvents(codec) // the group events for group-level policies
	return gs.Run(ctx)
}

// groupsShow prints one group node: its parent, children, and per currency
// the exposure, overdue and worst days past due as of -at (default today).
func groupsShow(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("groups show", flag.ContinueOnError)
	at := fs.String("at", "", "the day overdue and days past due are computed for (YYYY-MM-DD; default today, UTC)")
	children := fs.Bool("children", false, "list every child's contribution")
	id := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if id == "" {
		return fmt.Errorf("%w: arrears groups show GROUP [-at DATE] [-children]", errUsage)
	}
	today := event.DateOf(time.Now().UTC())
	if *at != "" {
		if today, err = event.ParseDate(*at); err != nil {
			return fmt.Errorf("-at: %w", err)
		}
	}
	n, err := loadGroupNode(ctx, cfg, id)
	if err != nil {
		return err
	}
	printGroup(w, id, n, today, *children)
	return nil
}

// loadGroupNode reads group id's node from the group store, on the
// partition of the contributions topic its key hashes to.
func loadGroupNode(ctx context.Context, cfg config.Config, id string) (*group.Node, error) {
	cl, err := kgo.NewClient(cfg.Kafka.ClientOpts()...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	topic := cfg.Kafka.Topics.GroupContributions
	md, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list topic %s: %w", topic, err)
	}
	d, ok := md[topic]
	if !ok || d.Err != nil || len(d.Partitions) == 0 {
		return nil, fmt.Errorf("topic %s missing (run `arrears topics create`)", topic)
	}
	p := kafkax.PartitionFor([]byte(id), int32(len(d.Partitions)))
	rdb, err := redisstore.Connect(ctx, cfg.Redis)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	vals, err := redisstore.New(rdb, processor.GroupStorePrefix(cfg.Redis.Prefix)).Load(ctx, p, 0, []string{id})
	if err != nil {
		return nil, err
	}
	v, ok := vals[id]
	if !ok {
		return nil, fmt.Errorf("group %s not found in Redis (prefix %s)", id, processor.GroupStorePrefix(cfg.Redis.Prefix))
	}
	return group.DecodeNode(v.State)
}

func printGroup(w io.Writer, id string, n *group.Node, today event.Date, children bool) {
	t := n.Totals
	fmt.Fprintf(w, "group %s (as of %s)\n", id, today)
	if n.Parent != "" {
		fmt.Fprintf(w, "  parent      %s\n", n.Parent)
	}
	fmt.Fprintf(w, "  children    %d\n  accounts    %d (%d not ACTIVE)\n  levels      %d\n  max PD      %.4f\n",
		len(n.Children), t.Accounts, t.Suspended, t.Depth, t.MaxPD)
	for _, c := range slices.Sorted(maps.Keys(t.Currencies)) {
		f := t.Currencies[c]
		fmt.Fprintf(w, "  %s exposure %s, overdue %s, disputed %s, expected loss %s\n", c, event.Amount(f.Exposure),
			event.Amount(t.Overdue(c, today)), event.Amount(f.Disputed), event.Amount(f.ExpectedLoss))
	}
	fmt.Fprintf(w, "  worst days past due %d\n", t.WorstDPD(today))
	if c := n.Conds; c != nil { // group/conditions.go
		for _, k := range c.List {
			flip := "never with these figures"
			if !k.Never {
				flip = "reached from " + k.Flip.String()
			}
			fmt.Fprintf(w, "  condition %s (%s) of group %s: holds %t; %s\n", k.Name, k.Rule, c.Group, k.Holds(today), flip)
		}
	}
	if !children {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(n.Children)) {
		ct := n.Children[k].Totals
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(ct.Currencies)) {
			parts = append(parts, fmt.Sprintf("%s %s (overdue %s)", c, event.Amount(ct.Currencies[c].Exposure), event.Amount(ct.Overdue(c, today))))
		}
		fmt.Fprintf(w, "  %-24s %d accounts, %s, dpd %d\n", k, ct.Accounts, strings.Join(parts, ", "), ct.WorstDPD(today))
	}
}

// explainGroup prints, after `arrears explain ACCOUNT`, the account's group
// context when processor.groups.enabled: its parent (from the account's
// parent link in the group store) and the parent group's aggregate as of
// the explanation's day. An unreachable group store is reported, not fatal.
func explainGroup(ctx context.Context, w io.Writer, args []string, asOf time.Time) {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.String("at", "", "")
	fs.SetOutput(io.Discard)
	acct := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		acct, args = args[0], args[1:]
	}
	cfg, err := config.Load(fs, args)
	if err != nil || !cfg.Processor.Groups.Enabled {
		return
	}
	if acct == "" && fs.NArg() > 0 {
		acct = fs.Arg(0)
	}
	link, err := loadGroupNode(ctx, cfg, acct)
	if err != nil || link.Parent == "" {
		fmt.Fprintln(w, "group: none")
		return
	}
	n, err := loadGroupNode(ctx, cfg, link.Parent)
	if err != nil {
		fmt.Fprintf(w, "group: %s (aggregate unavailable: %v)\n", link.Parent, err)
		return
	}
	printGroup(w, link.Parent, n, event.DateOf(asOf), false)
}
