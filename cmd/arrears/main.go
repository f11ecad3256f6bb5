// Command arrears is the single binary of the arrears collections processor:
// `arrears run` (processor), `sink`, `serve`, `topics`, `migrate` and more.
// main only wires signals and exit codes; each subcommand lives in its own
// cmd_*.go file. The root configuration is package config, the benchmark
// package bench, the workload producer of gen and bench package feed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(runMain(os.Args[1:])) }

// runMain runs one command until it ends or SIGINT/SIGTERM asks for a
// graceful shutdown, and returns the exit code.
func runMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, args); err != nil {
		fmt.Fprintln(os.Stderr, "arrears:", err)
		return 1
	}
	return 0
}
