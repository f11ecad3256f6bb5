// Command arrears is the single binary of the arrears collections processor:
// `arrears run` (processor), `sink`, `serve`, `topics`, `migrate` and more.
// main only wires signals and exit codes; each subcommand lives in its own file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "arrears:", err)
		os.Exit(1)
	}
}
