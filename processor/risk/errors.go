package risk

import (
	"errors"
	"fmt"
)

// ConfigError is a scorecard YAML that failed to load. Field is the dotted
// path of the offending value ("features.reversals.bins[2].lower"), Line its
// line in the file (0 when unknown).
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if loc == "" {
		loc = "scorecard"
	}
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}

// Errors returned by State.UnmarshalBinary and Config.Validate.
var (
	// ErrStateVersion is an encoded state with an unknown version byte.
	ErrStateVersion = errors.New("risk: unknown state version")
	// ErrStateCorrupt is an encoded state that is truncated or malformed.
	ErrStateCorrupt = errors.New("risk: corrupt state")
	// ErrInvalidConfig is a Config that failed validation.
	ErrInvalidConfig = errors.New("risk: invalid config")
)
