// Package config is the arrears process configuration: the root Config that
// gathers every component's own Config under its YAML section, its defaults
// and Validate, and how a process reads it (one YAML file named by -config or
// ARREARS_CONFIG, then ARREARS_* environment overrides).
//
// It is its own package so that the deploy tests decode the shipped config
// files into the very type the binary reads, and so that `arrears bench`
// configures its children by writing a Config to a file (Config.WriteFile).
//
// It does file IO only (reading a config file, writing one for a child
// process); it opens no connection.
package config
