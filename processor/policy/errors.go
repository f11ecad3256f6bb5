package policy

import (
	"errors"

	"github.com/arrears/arrears/processor/strictyaml"
)

// ConfigError is one problem in a policy file: the loading kit's one error
// type (see strictyaml.ConfigError). Field is the dotted path of the
// offending value ("stages[2].actions[0].type"), Line its line in the file
// (0 when unknown).
type ConfigError = strictyaml.ConfigError

// Errors is every problem found while loading one or more policy files, in
// file then line order. Use errors.As to get at it.
type Errors = strictyaml.Errors

// ErrNoPolicy is returned by (*Set).Require when no policy applies to an
// account (Select returns nil instead).
var ErrNoPolicy = errors.New("policy: no policy applies")

// ErrRecordMismatch: a published policy record's name or version is not
// that of the YAML it holds.
var ErrRecordMismatch = errors.New("policy record does not match its YAML")

// ErrNoEffectiveFrom: a published policy record has no effective_from.
var ErrNoEffectiveFrom = errors.New("policy record has no effective_from")
