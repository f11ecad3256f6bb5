package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// secrets are the fields that never go into a file WriteFile writes; a
// child process gets them from its environment, as an operator passes them.
func (c *Config) secrets() map[string]*string {
	return map[string]*string{
		"ARREARS_REDIS_PASSWORD":          &c.Redis.Password,
		"ARREARS_CODEC_REGISTRY_PASSWORD": &c.Codec.RegistryPassword,
		"ARREARS_CLICKHOUSE_PASSWORD":     &c.ClickHouse.Password,
		"ARREARS_KAFKA_SASL_PASSWORD":     &c.Kafka.SASL.Password,
		"ARREARS_API_AUDIT_PASSWORD":      &c.API.AuditPassword,
		"ARREARS_API_REDIS_PASSWORD":      &c.API.RedisPassword,
		"ARREARS_SINK_ERASE_PASSWORD":     &c.Sink.ErasePassword,
	}
}

// WriteFile writes c as a YAML config file (mode 0600) that Read turns back
// into c, secrets excepted: they are left out of the file and returned as
// ARREARS_* variables for the environment of the process that reads it.
// This is how `arrears bench` configures its children.
func (c Config) WriteFile(path string) (secretEnv []string, err error) {
	for name, p := range c.secrets() {
		if *p != "" {
			secretEnv = append(secretEnv, name+"="+*p)
			*p = ""
		}
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	return secretEnv, nil
}

// ChildEnv is environ without the ARREARS_* variables, so that a process
// started with -config FILE reads its whole configuration from FILE (plus
// the secret variables WriteFile returned).
func ChildEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, envPrefix+"_") {
			out = append(out, kv)
		}
	}
	return out
}
