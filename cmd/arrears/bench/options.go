package bench

import (
	"errors"
	"flag"
	"time"

	"github.com/arrears/arrears/cmd/arrears/feed"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/workload"
)

// Options are `arrears bench`'s flags.
type Options struct {
	// Workload is the generated book: seed, accounts, months, partitions
	// (of the bench topics, ticked hourly), from 2026-01-01.
	Workload workload.Options
	// LatencyEvents caps the events replayed at half rate for the latency
	// phase (0: the whole workload).
	LatencyEvents int
	// JSON, when set, is where the command also writes the Result as JSON.
	JSON string
	// Keep keeps the bench topics, Redis keys and ClickHouse databases.
	Keep bool
	// Bin is the arrears binary started as `run` and `sink` (default: this one).
	Bin string
	// WorkDir holds the children's config files and logs (default: a
	// temporary directory).
	WorkDir string
	// Profile, when set, is where the throughput phase saves CPU profiles
	// of run and sink (ProfileSeconds from the first produce) and run's heap
	// at the end of the phase.
	Profile        string
	ProfileSeconds int
	// BillRun adds the bill-run phase: one bill cycle's invoices for the
	// whole book at one instant, beside the ongoing events at the latency
	// phase's rate.
	BillRun bool
	// LatencyRate is the latency and bill-run phases' load in events/s (0:
	// half the throughput phase's end-to-end rate, which varies with the
	// machine's load from run to run; a fixed one compares runs).
	LatencyRate int
	// PaymentsTopic sends payments to their own input topic (id.payments,
	// an extra input in kafka.topics.read_first), produces in batches of at
	// most 16 KiB and gives the processor fetches of about one transaction
	// (paymentsFetchBytes, unless the configuration sets its own), in the
	// latency and bill-run phases (the throughput phase keeps one input
	// topic: see Run).
	PaymentsTopic bool
	// Env is the pure core's environment, as `arrears run` builds it from
	// the same configuration (the core replay runs with it).
	Env *core.Env
}

// Flags registers the options on fs with their defaults and returns them;
// they hold the parsed values once fs is parsed.
func Flags(fs *flag.FlagSet) *Options {
	o := &Options{Workload: workload.Options{Seed: 7, Accounts: 100000, Months: 3, Partitions: 12,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), TickEvery: time.Hour}}
	feed.WorkloadFlags(fs, &o.Workload, "partitions of the bench topics")
	fs.IntVar(&o.LatencyEvents, "latency-events", 0, "events replayed at half rate for the latency phase (0: all)")
	fs.IntVar(&o.LatencyRate, "latency-rate", 0, "events/s of the latency and bill-run phases (0: half the end-to-end rate the throughput phase measured)")
	fs.StringVar(&o.JSON, "json", "", "also write the result as JSON to FILE")
	fs.BoolVar(&o.Keep, "keep", false, "keep the bench topics, Redis keys and ClickHouse databases")
	fs.StringVar(&o.Bin, "bin", "", "arrears binary to start as run and sink (default: this one)")
	fs.StringVar(&o.WorkDir, "dir", "", "directory for the children's configs and logs (default: a temporary one)")
	fs.StringVar(&o.Profile, "profile", "", "save CPU profiles of run and sink and run's heap from the throughput phase in DIR")
	fs.IntVar(&o.ProfileSeconds, "profile-seconds", 15, "length of the CPU profiles")
	fs.BoolVar(&o.PaymentsTopic, "payments-topic", false, "in the latency and bill-run phases, send payments to their own input topic, read first (kafka.topics.read_first), with fetches of about one transaction")
	fs.BoolVar(&o.BillRun, "bill-run", false, "add a bill-run phase: the whole book invoiced at one instant beside the latency phase's load")
	return o
}

// Validate refuses sizes the bench cannot run, naming the flag.
func (o Options) Validate() error {
	if w := o.Workload; w.Accounts < 1 || w.Months < 1 || w.Partitions < 1 || w.TickEvery <= 0 {
		return errors.New("--accounts, --months and --partitions must be >= 1 and --tick > 0")
	}
	if o.LatencyEvents < 0 || o.LatencyRate < 0 || o.ProfileSeconds < 1 {
		return errors.New("--latency-events and --latency-rate must be >= 0 and --profile-seconds >= 1")
	}
	return nil
}
