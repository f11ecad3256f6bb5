package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync/atomic"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/cmd/arrears/feed"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/workload"
	"github.com/arrears/arrears/schemas"
)

// cmdGen: `arrears gen --seed S --accounts N --months M [--rate R] [--format avro|json] [--out FILE|-]`
// writes a synthetic telecom receivables book to the events topic (or a file).
func cmdGen(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	wo := workload.Options{Seed: 1, Accounts: 10000, Months: 3, TickEvery: time.Hour}
	feed.WorkloadFlags(fs, &wo, "partitions to tick (default: the events topic's)")
	start := fs.String("start", "2026-01-01", "first simulated day (YYYY-MM-DD)")
	rate := fs.Int("rate", 0, "events per second (0: as fast as the broker takes them)")
	format := fs.String("format", "avro", "avro (single-object encoding, or Confluent with a registry) or json (Avro JSON)")
	out := fs.String("out", "", "write Avro-JSON lines to FILE (- for stdout) instead of Kafka")
	fs.Func("arm-response", "an experiment's arm-specific payment response, e.g. experiment=EXP-2026-12,share=0.1,cure=0.35/0.65 (docs/policies.md)",
		func(s string) (err error) { wo.ArmResponse, err = workload.ParseArmResponse(s); return err })
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	day, err := event.ParseDate(*start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	wo.Start = day.Time()
	if *format != "avro" && *format != "json" {
		return fmt.Errorf("-format: %q is not avro or json", *format)
	}
	if wo.Partitions <= 0 && *out == "" {
		if wo.Partitions, err = partitionCount(ctx, cfg); err != nil {
			return err
		}
	}
	wo.Partitions = max(wo.Partitions, 1)
	g := workload.New(wo)
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return err
	}
	started := time.Now()
	var sent atomic.Int64
	kinds := map[event.Kind]int64{}
	stopProgress := progress(&sent, started)
	defer stopProgress()

	if *out != "" {
		w := io.Writer(os.Stdout)
		if *out != "-" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		for ev, ok := g.Next(); ok; ev, ok = g.Next() {
			rec, err := feed.Record(ctx, codec, cfg.Kafka.Topics.Events, ev, true)
			if err != nil {
				return err
			}
			bw.Write(rec.Value)
			bw.WriteByte('\n')
			kinds[ev.Body.Kind()]++
			sent.Add(1)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	} else {
		pr, err := feed.New(cfg.Kafka, *rate, &sent)
		if err != nil {
			return err
		}
		defer pr.Close()
		for ev, ok := g.Next(); ok; ev, ok = g.Next() {
			rec, err := feed.Record(ctx, codec, cfg.Kafka.Topics.Events, ev, *format == "json")
			if err != nil {
				return err
			}
			kinds[ev.Body.Kind()]++
			if _, err := pr.Send(ctx, rec); err != nil {
				return err
			}
		}
		if err := pr.Flush(ctx); err != nil {
			return err
		}
	}
	stopProgress()
	el := time.Since(started)
	names := make([]string, 0, len(kinds))
	byName := map[string]int64{}
	for k, v := range kinds {
		names = append(names, k.String())
		byName[k.String()] = v
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "generated %d events for %d accounts over %d months (seed %d) in %s: %.0f events/s\n",
		sent.Load(), wo.Accounts, wo.Months, wo.Seed, el.Round(time.Millisecond), float64(sent.Load())/el.Seconds())
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-22s %d\n", n, byName[n])
	}
	return nil
}

// progress prints events/s on stderr: a live line on a terminal, a line
// every 5 s otherwise. The returned func stops it (idempotent).
func progress(n *atomic.Int64, start time.Time) func() {
	fi, _ := os.Stderr.Stat()
	tty := fi != nil && fi.Mode()&os.ModeCharDevice != 0
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	var stopped atomic.Bool
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastT := int64(0), start
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprintln(os.Stderr)
				}
				return
			case now := <-t.C:
				cur := n.Load()
				rate := float64(cur-last) / now.Sub(lastT).Seconds()
				last, lastT = cur, now
				if tty {
					fmt.Fprintf(os.Stderr, "\r%s %10d events %9.0f events/s", bar(now.Sub(start)), cur, rate)
				} else {
					fmt.Fprintf(os.Stderr, "gen: %d events, %.0f events/s\n", cur, rate)
				}
			}
		}
	}()
	return func() {
		if stopped.CompareAndSwap(false, true) {
			close(done)
		}
	}
}

// bar is a small spinner-bar for the terminal progress line.
func bar(d time.Duration) string {
	const w = 20
	p := int(d/(100*time.Millisecond)) % (2 * w)
	if p >= w {
		p = 2*w - p - 1
	}
	b := []byte("[                    ]")
	b[1+p] = '='
	return string(b)
}

// partitionCount is the events topic's partition count.
func partitionCount(ctx context.Context, cfg config.Config) (int, error) {
	_, n, err := partitionOf(ctx, cfg, "")
	return n, err
}
