package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Load registers -config on fs (default $ARREARS_CONFIG), parses args with
// any flags the caller registered, reads that YAML file over the defaults,
// applies the ARREARS_* variables of the process environment and validates.
func Load(fs *flag.FlagSet, args []string) (Config, error) {
	path := fs.String("config", os.Getenv(EnvConfigFile), "YAML config file (default: built-in defaults)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return Read(*path, os.Environ())
}

// Read is Load without flags: the file at path (none if empty) over the
// defaults, then the ARREARS_* variables of environ, then Validate.
func Read(path string, environ []string) (Config, error) {
	cfg := Defaults()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if cfg, err = Decode(b); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	if err := applySecretFiles(&cfg, environ); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// Decode reads a YAML config over the defaults, strictly: an unknown or
// misplaced key is an error. It does not validate.
func Decode(b []byte) (Config, error) {
	cfg := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, err
	}
	return cfg, nil
}
