package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/risk/train"
)

// cmdRisk: `arrears risk explain ACCOUNT` (and `risk train`).
func cmdRisk(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: arrears risk explain ACCOUNT | risk train [flags]", errUsage)
	}
	switch args[0] {
	case "explain":
		e, err := explainAccount(ctx, "risk explain", args[1:])
		if err != nil {
			return err
		}
		fmt.Printf("account %s as of %s\n%s", e.Account, e.AsOf.Format(time.RFC3339), e.RiskString())
		return nil
	case "train":
		return cmdRiskTrain(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown risk subcommand %q", errUsage, args[0])
}

// cmdRiskTrain: `arrears risk train [-every-days 30] [-horizon-days 90]
// [-default-dpd 90] [-out FILE] [-metrics FILE]` samples labelled snapshots
// from ClickHouse's risk_features (landed by the sink), fits a regularised
// logistic scorecard on the earlier period, reports AUC, KS and a
// calibration table on the later one, and writes a scorecard YAML that
// `run` loads (core.scorecard).
func cmdRiskTrain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("risk train", flag.ContinueOnError)
	every := fs.Int("every-days", 30, "days between snapshot dates")
	horizon := fs.Int("horizon-days", 90, "outcome window after a snapshot, in days")
	dpd := fs.Int("default-dpd", 90, "days past due that count as default")
	from := fs.String("from", "", "first snapshot date YYYY-MM-DD (default: the history's start + every-days)")
	to := fs.String("to", "", "last snapshot date (default: the history's end - horizon-days)")
	l2 := fs.Float64("l2", 1, "ridge penalty")
	testFraction := fs.Float64("test-fraction", 0.3, "latest share of snapshots held out")
	name := fs.String("name", "trained", "scorecard name")
	out := fs.String("out", "scorecard.yaml", "write the scorecard YAML here (- for stdout)")
	metricsOut := fs.String("metrics", "", "also write the held-out metrics as JSON here")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if *every < 1 || *horizon < 1 || *dpd < 1 {
		return fmt.Errorf("-every-days, -horizon-days and -default-dpd must be >= 1")
	}
	o := analytics.TrainingOptions{Every: time.Duration(*every) * 24 * time.Hour, Horizon: time.Duration(*horizon) * 24 * time.Hour, DefaultDPD: *dpd}
	for _, d := range []struct {
		flag string
		v    string
		t    *time.Time
	}{{"-from", *from, &o.From}, {"-to", *to, &o.To}} {
		if d.v == "" {
			continue
		}
		if *d.t, err = time.Parse(time.DateOnly, d.v); err != nil {
			return fmt.Errorf("%s: %w", d.flag, err)
		}
	}
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := analytics.TrainingRows(ctx, conn, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "risk train: %d labelled snapshots from %s\n", len(rows), cfg.ClickHouse.Database)
	m, met, err := train.Train(rows, train.TrainOptions{L2: *l2, TestFraction: *testFraction})
	if err != nil {
		return err
	}
	y, err := m.Scorecard(train.ScorecardOptions{Name: *name,
		Description: fmt.Sprintf("Trained by arrears risk train on %s: %d snapshots every %d days, default = %d+ days past due within %d days; held-out AUC %.4f, KS %.4f.",
			cfg.ClickHouse.Database, len(rows), *every, *dpd, *horizon, met.AUC, met.KS)})
	if err != nil {
		return err
	}
	if err := writeOut(*out, y); err != nil {
		return err
	}
	if *metricsOut != "" {
		b, err := json.MarshalIndent(met, "", "  ")
		if err != nil {
			return err
		}
		if err := writeOut(*metricsOut, append(b, '\n')); err != nil {
			return err
		}
	}
	printMetrics(os.Stderr, met)
	return nil
}

// printMetrics writes the held-out metrics and the calibration table.
func printMetrics(w io.Writer, met train.Metrics) {
	fmt.Fprintf(w, "split at %s: train %d rows (%d defaults), held out %d rows (%d defaults)\n",
		met.Split.Format(time.DateOnly), met.TrainRows, met.TrainDefaults, met.TestRows, met.TestDefaults)
	fmt.Fprintf(w, "held-out AUC %.4f (train %.4f), KS %.4f, log loss %.4f, Brier %.4f\n", met.AUC, met.TrainAUC, met.KS, met.LogLoss, met.Brier)
	if len(met.Dropped) > 0 {
		fmt.Fprintf(w, "dropped features: %v\n", met.Dropped)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "decile\trows\tmean PD\tobserved")
	for _, c := range met.Calibration {
		fmt.Fprintf(tw, "%d\t%d\t%.4f\t%.4f\n", c.Decile, c.Rows, c.MeanPD, c.ObservedRate)
	}
	_ = tw.Flush()
}
