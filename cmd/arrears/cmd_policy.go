package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/schemas"
)

const policyUsage = "arrears policy check FILE... | apply FILE... [--effective AT] | list [--at AT] | diff OLD NEW [-config FILE]"

// cmdPolicy: `arrears policy check|apply|list|diff` (docs/policies.md
// "Lifecycle"): validate policy files; publish them as versions on
// ar.policies; list the published versions and which is in force; show
// what changes between two versions.
func cmdPolicy(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, policyUsage)
	}
	switch args[0] {
	case "check":
		return policyCheck(args[1:])
	case "apply":
		return policyApply(ctx, args[1:])
	case "list":
		return policyList(ctx, args[1:])
	case "diff":
		return policyDiff(ctx, args[1:])
	}
	return fmt.Errorf("%w: %s", errUsage, policyUsage)
}

// policyCheck validates policies and prints each one's name, version and
// stages, or every error with file and line.
func policyCheck(paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("%w: arrears policy check FILE...", errUsage)
	}
	files, err := readPolicyFiles(paths)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		p, err := policy.Load(f.Data, f.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stages := make([]string, 0, len(p.Stages))
		for _, s := range p.Stages {
			stages = append(stages, s.Name)
		}
		fmt.Printf("ok %s: policy %s version %s, %d stages %v\n", f.Name, p.Name, p.Version, len(stages), stages)
	}
	if len(errs) == 0 && len(files) > 1 {
		if _, err := policy.LoadSet(files); err != nil {
			errs = append(errs, err)
		}
	}
	return reportInvalid(errs)
}

func reportInvalid(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, e)
	}
	return errors.New("invalid policy")
}

func readPolicyFiles(paths []string) ([]policy.File, error) {
	var files []policy.File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, policy.File{Name: p, Data: b})
	}
	return files, nil
}

// policyFlags parses the flags of a policy subcommand wherever they stand
// among its arguments (FILE... --effective AT) and loads the config.
func policyFlags(name string, args []string, define func(fs *flag.FlagSet)) (config.Config, []string, error) {
	fs := flag.NewFlagSet("policy "+name, flag.ContinueOnError)
	define(fs)
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		if !strings.Contains(a, "=") && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	cfg, err := config.Load(fs, flags)
	return cfg, pos, err
}

var policyCodec = processor.PolicyCodec{Encode: schemas.EncodePolicy, Decode: schemas.DecodePolicy}

// policyApply: `arrears policy apply FILE... [--effective AT]` validates
// the files as one set and publishes each policy as a version effective
// from AT (RFC 3339; default now + processor.policy_lead_time).
func policyApply(ctx context.Context, args []string) error {
	var eff string
	cfg, paths, err := policyFlags("apply", args, func(fs *flag.FlagSet) {
		fs.StringVar(&eff, "effective", "", "effective_from, RFC 3339 (default: now + processor.policy_lead_time)")
	})
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: arrears policy apply FILE... [--effective AT]", errUsage)
	}
	files, err := readPolicyFiles(paths)
	if err != nil {
		return err
	}
	now := time.Now()
	at := now.Add(cfg.Processor.PolicyLeadTime).Truncate(time.Second).Add(time.Second)
	if eff != "" {
		if at, err = time.Parse(time.RFC3339, eff); err != nil {
			return fmt.Errorf("--effective: %w", err)
		}
	}
	applied, err := processor.ApplyPolicies(ctx, cfg.Kafka, policyCodec, files, at, now, cfg.Processor.PolicyLeadTime, quietLog())
	var es policy.Errors
	if errors.As(err, &es) {
		return reportInvalid([]error{err})
	}
	if err != nil {
		return err
	}
	for _, a := range applied {
		r := a.Record
		if a.Unchanged {
			fmt.Printf("unchanged %s@%s: already in force at %s\n", r.Name, r.Version, r.EffectiveFrom.Format(time.RFC3339))
			continue
		}
		fmt.Printf("applied %s@%s effective from %s (%d earlier versions)\n", r.Name, r.Version, r.EffectiveFrom.Format(time.RFC3339), len(r.Previous))
	}
	return nil
}

// policyList: `arrears policy list [--at AT]` prints every published
// version by policy and marks the one in force at AT (default now); the
// files of core.policy_dir are the versions before the first.
func policyList(ctx context.Context, args []string) error {
	var at string
	cfg, _, err := policyFlags("list", args, func(fs *flag.FlagSet) {
		fs.StringVar(&at, "at", "", "the instant to show the versions in force at, RFC 3339 (default: now)")
	})
	if err != nil {
		return err
	}
	t := time.Now()
	if at != "" {
		if t, err = time.Parse(time.RFC3339, at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	base, err := policy.LoadFS(os.DirFS(cfg.Core.PolicyDir))
	if err != nil {
		base = nil // no files: the topic alone
	}
	tl, err := processor.ReadPolicies(ctx, cfg.Kafka, policyCodec.Decode, base, quietLog())
	if err != nil {
		return err
	}
	return printVersions(os.Stdout, base, tl, t)
}

// printVersions writes the table of policy list: one row per version,
// "*" on the one in force at t, the files' version first.
func printVersions(w io.Writer, base *policy.Set, tl *policy.Timeline, t time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "in force at %s\n", t.UTC().Format(time.RFC3339))
	fmt.Fprintln(tw, "\tpolicy\tversion\teffective_from\tapplied_at")
	var history [][]policy.Version
	if tl != nil {
		history = tl.History()
	}
	names := map[string][]policy.Version{}
	for _, vs := range history {
		names[vs[0].Name] = vs
	}
	var order []string
	if base != nil {
		for _, p := range base.Policies() {
			order = append(order, p.Name)
		}
	}
	for _, vs := range history {
		if base == nil || base.Get(vs[0].Name) == nil {
			order = append(order, vs[0].Name)
		}
	}
	for _, name := range order {
		active, published := policy.Version{}, false
		if tl != nil {
			active, published = tl.Active(name, t)
		}
		if base != nil {
			if p := base.Get(name); p != nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark(!published), name, p.Version, "(files, before the first version)", "-")
			}
		}
		for _, v := range names[name] {
			on := published && v.Version == active.Version && v.EffectiveFrom.Equal(active.EffectiveFrom)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark(on), name, v.Version, v.EffectiveFrom.UTC().Format(time.RFC3339), v.AppliedAt.UTC().Format(time.RFC3339))
		}
	}
	return tw.Flush()
}

func mark(on bool) string {
	if on {
		return "*"
	}
	return ""
}

// policyDiff: `arrears policy diff OLD NEW`: each of OLD and NEW is a
// policy file or NAME@VERSION of a published version.
func policyDiff(ctx context.Context, args []string) error {
	cfg, pos, err := policyFlags("diff", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: arrears policy diff OLD NEW (a file or NAME@VERSION)", errUsage)
	}
	var tl *policy.Timeline
	yamlOf := func(arg string) ([]byte, error) {
		if b, err := os.ReadFile(arg); err == nil || !strings.Contains(arg, "@") {
			return b, err
		}
		if tl == nil {
			if tl, err = processor.ReadPolicies(ctx, cfg.Kafka, policyCodec.Decode, nil, quietLog()); err != nil {
				return nil, err
			}
		}
		return publishedYAML(tl, arg)
	}
	a, err := yamlOf(pos[0])
	if err != nil {
		return err
	}
	b, err := yamlOf(pos[1])
	if err != nil {
		return err
	}
	for _, y := range [][]byte{a, b} {
		if _, err := policy.Load(y, ""); err != nil {
			return reportInvalid([]error{err})
		}
	}
	changes, err := policy.Diff(a, b)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Println("no changes")
	}
	for _, c := range changes {
		fmt.Println(c)
	}
	return nil
}

// publishedYAML finds NAME@VERSION among the published versions.
func publishedYAML(tl *policy.Timeline, ref string) ([]byte, error) {
	name, version, _ := strings.Cut(ref, "@")
	if tl != nil {
		for _, vs := range tl.History() {
			for _, v := range vs {
				if v.Name == name && v.Version == version {
					return v.YAML, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("%s: no such file and no published version %s of policy %s", ref, version, name)
}

// withVersions gives env the policy versions published on
// kafka.topics.policies, so that a command decides as `arrears run` does
// (none published: env.Versions stays nil, the files decide).
func withVersions(ctx context.Context, cfg config.Config, env *core.Env) error {
	tl, err := processor.ReadPolicies(ctx, cfg.Kafka, schemas.DecodePolicy, env.Policies, quietLog())
	if err != nil {
		return fmt.Errorf("policy versions (%s): %w", cfg.Kafka.Topics.Policies, err)
	}
	env.Versions = tl
	return nil
}

// quietLog logs only errors (a skipped invalid record), to stderr.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
