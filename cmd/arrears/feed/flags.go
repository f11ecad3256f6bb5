package feed

import (
	"flag"

	"github.com/arrears/arrears/processor/workload"
)

// WorkloadFlags registers the generated book's flags (--seed, --accounts,
// --months, --partitions, --tick) on fs, bound to o and defaulting to o's
// values; partitionsHelp says what --partitions means to the command.
func WorkloadFlags(fs *flag.FlagSet, o *workload.Options, partitionsHelp string) {
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "workload seed: the same seed gives the same events")
	fs.IntVar(&o.Accounts, "accounts", o.Accounts, "accounts in the generated book")
	fs.IntVar(&o.Months, "months", o.Months, "simulated months")
	fs.IntVar(&o.Partitions, "partitions", o.Partitions, partitionsHelp)
	fs.DurationVar(&o.TickEvery, "tick", o.TickEvery, "simulated time between ClockTicks")
}
