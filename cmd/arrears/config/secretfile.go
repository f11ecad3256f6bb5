package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// SecretFileSuffix turns a secret's variable into the variable naming a
// file that holds it: ARREARS_REDIS_PASSWORD_FILE=/run/secrets/redis reads
// the password from that file (a Kubernetes or Docker secret mount).
const SecretFileSuffix = "_FILE"

// applySecretFiles sets every secret (Config.secrets) whose NAME_FILE
// variable is in environ from that file's contents, one trailing newline
// removed. NAME_FILE wins over NAME and the YAML file. Errors name the
// variable and the path, never the contents.
func applySecretFiles(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasSuffix(k, SecretFileSuffix) {
			env[k] = v
		}
	}
	secrets := c.secrets()
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path, ok := env[name+SecretFileSuffix]
		if !ok {
			continue
		}
		if path == "" {
			return fmt.Errorf("env %s%s: empty path", name, SecretFileSuffix)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// os errors carry the path, not the contents.
			return fmt.Errorf("env %s%s: %w", name, SecretFileSuffix, err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		*secrets[name] = s
	}
	return nil
}

// SecretFileNames lists the NAME_FILE variables arrears reads, one per
// secret.
func SecretFileNames() []string {
	var c Config
	out := make([]string, 0, 4)
	for name := range c.secrets() {
		out = append(out, name+SecretFileSuffix)
	}
	sort.Strings(out)
	return out
}
