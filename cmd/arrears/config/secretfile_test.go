package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretFiles: a secret's NAME_FILE variable reads the secret from that
// file (over NAME and the YAML file), a missing file fails naming the
// variable and path and never holds the secret.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	redisPW := filepath.Join(dir, "redis")
	if err := os.WriteFile(redisPW, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Read("", []string{"ARREARS_REDIS_PASSWORD=from-env", "ARREARS_REDIS_PASSWORD_FILE=" + redisPW})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis.Password != "from-file" {
		t.Errorf("redis password = %q, want the file's contents without the newline", cfg.Redis.Password)
	}
	if cfg.ClickHouse.Password != "" {
		t.Errorf("clickhouse password = %q, want unset", cfg.ClickHouse.Password)
	}
	missing := filepath.Join(dir, "nope")
	_, err = Read("", []string{"ARREARS_REDIS_PASSWORD=s3cr3t", "ARREARS_CLICKHOUSE_PASSWORD_FILE=" + missing})
	if err == nil || !strings.Contains(err.Error(), "ARREARS_CLICKHOUSE_PASSWORD_FILE") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: err = %v, want it to name the variable and the path", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error holds a secret: %v", err)
	}
	names := EnvNames()
	for _, n := range []string{"ARREARS_REDIS_PASSWORD_FILE", "ARREARS_CLICKHOUSE_PASSWORD_FILE"} {
		if !names[n] {
			t.Errorf("EnvNames lacks %s", n)
		}
	}
}
