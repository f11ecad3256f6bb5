package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKafkaSASLPassword: the Kafka SASL password is a secret: from
// ARREARS_KAFKA_SASL_PASSWORD or ..._FILE, never in a file WriteFile
// writes, back from the returned environment.
func TestKafkaSASLPassword(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("k-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"ARREARS_KAFKA_SASL_MECHANISM=SCRAM-SHA-512", "ARREARS_KAFKA_SASL_USERNAME=processor"}
	c, err := Read("", append(base, "ARREARS_KAFKA_SASL_PASSWORD_FILE="+pw))
	if err != nil || c.Kafka.SASL.Password != "k-secret" {
		t.Fatalf("from _FILE: password %q, %v", c.Kafka.SASL.Password, err)
	}
	if _, err := Read("", base); err == nil || !strings.Contains(err.Error(), "kafka.sasl.password") {
		t.Errorf("no password: got %v, want an error naming kafka.sasl.password", err)
	}
	path := filepath.Join(dir, "child.yaml")
	env, err := c.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "k-secret") || !strings.Contains(string(b), "SCRAM-SHA-512") {
		t.Errorf("written file (password must be out, mechanism in):\n%s", b)
	}
	back, err := Read(path, env)
	if err != nil || back.Kafka.SASL.Password != "k-secret" {
		t.Errorf("read back with %d secret variables: password %q, %v", len(env), back.Kafka.SASL.Password, err)
	}
}
