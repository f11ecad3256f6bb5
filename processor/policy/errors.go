package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ConfigError is one problem in a policy file. Field is the dotted path of
// the offending value ("stages[2].actions[0].type"), Line its line in the
// file (0 when unknown).
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if loc == "" {
		loc = "policy"
	}
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}

// Errors is every problem found while loading one or more policy files, in
// file then line order. Use errors.As to get at it.
type Errors []*ConfigError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// ErrNoPolicy is returned by (*Set).Require when no policy applies to an
// account (Select returns nil instead).
var ErrNoPolicy = errors.New("policy: no policy applies")
