package schemas

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// readKnownWriters parses every .avsc file of dir (Config.KnownWriters):
// each must be a writer schema of one of our records that resolves onto
// ours, so that a bad file stops the start, naming itself and the field,
// instead of dead-lettering every record that uses it.
func readKnownWriters(dir string) ([]*schema, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("schemas: known_writers: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".avsc") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	out := make([]*schema, 0, len(names))
	for _, n := range names {
		text, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("schemas: known_writers: %w", err)
		}
		s, err := parseSchema(string(text))
		if err != nil {
			return nil, fmt.Errorf("schemas: known_writers: %s: %w", n, err)
		}
		if builtins()[s.name] == nil {
			return nil, fmt.Errorf("schemas: known_writers: %s: record %s is not one of arrears' (%s)",
				n, orUnnamed(s.name), strings.Join(Names(), ", "))
		}
		if s = s.asWriter(); s.incompatible != nil {
			return nil, fmt.Errorf("schemas: known_writers: %s: %w", n, s.incompatible)
		}
		out = append(out, s)
	}
	return out, nil
}
