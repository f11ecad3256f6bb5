package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line help and its entry point, which
// receives the arguments after the subcommand name.
type command struct {
	help string
	run  func(ctx context.Context, args []string) error
}

// commands lists every subcommand. Each lives in its own cmd_*.go file.
var commands = map[string]command{
	"run":     {"run the collections processor (consume ar.events, emit actions, keep state in Redis)", cmdRun},
	"gen":     {"gen --seed S --accounts N --months M: write a synthetic telecom book to ar.events", cmdGen},
	"topics":  {"topics create|check|delete|acls [-partitions N] [-yes]: create, verify or delete the arrears topics; print (or -apply) each role's ACLs", cmdTopics},
	"version": {"print the version", cmdVersion},
	"sink":    {"land the accepted events (ar.events.accepted) and the output topics in ClickHouse (own consumer group)", cmdSink},
	"migrate": {"migrate [-status]: create or upgrade the ClickHouse schema", cmdMigrate},
	"report":  {"report NAME -as-of DATE [-segment S] [-format table|csv|json]: collections analytics", cmdReport},
	"explain": {"explain ACCOUNT: stage, open items, next action, when and why (from Redis)", cmdExplain},
	"policy":  {"policy check FILE... | apply FILE... [--effective AT] | list [--at AT] | diff OLD NEW: validate, publish (ar.policies), list and compare policy versions", cmdPolicy},
	"risk":    {"risk explain ACCOUNT | risk train: credit risk score and model training", cmdRisk},
	"serve":   {"serve the collections dashboard (live from ClickHouse) and ops endpoints", cmdServe},
	"state":   {"state restore: rebuild Redis from the status changelog", cmdState},
	"bench":   {"bench [--accounts N] [--months M] [--json FILE]: end-to-end throughput, latency and the parts' ceilings on the real stack", cmdBench},
	"wait":    {"wait until consumer groups have consumed everything (demo, bench, scripts)", cmdWait},
	"api":     {"api token --name N --role R [--queues Q,...] [--append] | api probe [-n 200]: operator API tokens; time a write with ?wait end to end", cmdAPI},
	"groups":  {"groups run | groups show GROUP [-at DATE] [-children]: run the collections-group stage alone; show a group's aggregate (from Redis)", cmdGroups},

	// personal data: history retention (cmd_retention.go)
	"retention": {"retention apply [--months N] [--dry-run]: drop ClickHouse history older than retention.months", cmdRetention},

	// history replayed under a candidate policy (cmd_simulate.go)
	"simulate": {"simulate --policy FILE... --from D --to D [--sample N] [--response none|historical] [--format table|json]: replay landed history under the active and a candidate policy, side by side", cmdSimulate},
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage()
		return fmt.Errorf("unknown command %q", args[0])
	}
	if err := c.run(ctx, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("arrears: streaming accounts receivable and collections\n\nusage: arrears COMMAND [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].help)
	}
	b.WriteString("\nEvery command takes -config FILE (YAML); ARREARS_* environment variables override it.\n")
	fmt.Fprint(os.Stderr, b.String())
}

// version is set by the linker (-ldflags "-X main.version=...").
var version = "dev"

func cmdVersion(context.Context, []string) error {
	fmt.Println("arrears", version)
	return nil
}

// writeOut writes b to path, or to stdout for "-" (risk train, bench --json).
func writeOut(path string, b []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
