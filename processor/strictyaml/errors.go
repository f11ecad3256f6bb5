package strictyaml

import (
	"fmt"
	"strings"
)

// ConfigError is one problem in a YAML file. Field is the dotted path of the
// offending value ("features.reversals.bins[2].lower"), Line its line in the
// file (0 when unknown, e.g. a syntax error or a size limit).
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "file:line: field: msg", leaving out the
// parts that are unknown.
func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}

// Errors is every problem found while loading one or more files, in file
// then line order. Use errors.As to get at it or at its first ConfigError.
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
