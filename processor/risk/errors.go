package risk

import (
	"errors"

	"github.com/arrears/arrears/processor/strictyaml"
)

// ConfigError is a scorecard YAML that failed to load: the loading kit's
// one error type (see strictyaml.ConfigError). Field is the dotted path of
// the offending value ("features.reversals.bins[2].lower"), Line its line in
// the file (0 when unknown).
type ConfigError = strictyaml.ConfigError

// Errors returned by State.UnmarshalBinary and Config.Validate.
var (
	// ErrStateVersion is an encoded state with an unknown version byte.
	ErrStateVersion = errors.New("risk: unknown state version")
	// ErrStateCorrupt is an encoded state that is truncated or malformed.
	ErrStateCorrupt = errors.New("risk: corrupt state")
	// ErrInvalidConfig is a Config that failed validation.
	ErrInvalidConfig = errors.New("risk: invalid config")
)
