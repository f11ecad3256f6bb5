// Package strictyaml is the strict-YAML loading kit shared by the policy
// and scorecard loaders (processor/policy, processor/risk).
//
// It owns three things: Parse, which turns bytes into one yaml.Node
// document and refuses input past fixed bounds (MaxBytes, MaxDepth,
// MaxNodes counted with every alias expanded, so a "billion laughs"
// document is refused before anyone walks it); Reader, which walks that
// tree with known fields only, typed scalars, and records every problem
// with its line and dotted field path ("stages[2].actions[0].type"); and
// ConfigError / Errors, the one error type both loaders return, printed
// as "file:line: field: problem".
//
// It is pure: no file, network or other IO. Callers pass bytes they read
// themselves (for a directory, from an fs.FS).
package strictyaml
