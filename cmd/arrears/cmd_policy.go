package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/arrears/arrears/processor/policy"
)

// cmdPolicy: `arrears policy check FILE...` validates policies and prints
// each one's name, version and stages, or every error with file and line.
func cmdPolicy(_ context.Context, args []string) error {
	if len(args) < 2 || args[0] != "check" {
		return fmt.Errorf("%w: arrears policy check FILE...", errUsage)
	}
	var files []policy.File
	for _, p := range args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, policy.File{Name: p, Data: b})
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
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		return errors.New("invalid policy")
	}
	return nil
}
