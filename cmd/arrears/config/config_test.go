package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
)

func TestConfigFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "arrears.yaml")
	yaml := "kafka:\n  brokers: [\"k1:9092\"]\n  partitions: 24\nprocessor:\n  max_poll_records: 500\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARREARS_KAFKA_BROKERS", "a:9092, b:9092")
	t.Setenv("ARREARS_REDIS_TIMEOUT", "250ms")
	t.Setenv("ARREARS_KAFKA_TOPICS_DLQ", "ops.dlq")
	cfg, err := Load(flag.NewFlagSet("x", flag.ContinueOnError), []string{"-config", path})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Kafka.Brokers, ","); got != "a:9092,b:9092" {
		t.Errorf("brokers = %q: the environment must override the file", got)
	}
	if cfg.Kafka.Partitions != 24 || cfg.Processor.MaxPollRecords != 500 {
		t.Errorf("file values not applied: partitions %d, max_poll_records %d", cfg.Kafka.Partitions, cfg.Processor.MaxPollRecords)
	}
	if cfg.Redis.Timeout != 250*time.Millisecond || cfg.Kafka.Topics.DLQ != "ops.dlq" {
		t.Errorf("env not applied: timeout %s dlq %q", cfg.Redis.Timeout, cfg.Kafka.Topics.DLQ)
	}
	if cfg.Kafka.Topics.Events != "ar.events" {
		t.Errorf("default topic lost: %q", cfg.Kafka.Topics.Events)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := map[string]string{
		"kafka:\n  partitions: 0\n":               "kafka.partitions",
		"kafka:\n  brokers: [\"nohost\"]\n":       "kafka.brokers[0]",
		"redis:\n  addrs: []\n":                   "redis.addrs",
		"processor:\n  max_poll_records: -1\n":    "processor.max_poll_records",
		"processor:\n  misrouted: drop\n":         "processor.misrouted",
		"kafka:\n  topics:\n    dlq: ar.events\n": "kafka.topics.dlq",
		"log:\n  level: loud\n":                   "log.level",
		"kafka:\n  brokerz: [\"a:1\"]\n":          "brokerz",
		"core:\n  risk_pd_delta: 2\n":             "core.risk_pd_delta",
		"dlq:\n  max_payload_bytes: 0\n":          "dlq.max_payload_bytes",
		"dlq:\n  max_payload_bytes: 2000000\n":    "dlq.max_payload_bytes",
	}
	for yaml, field := range cases {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path, nil)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("config %q: error %v does not name %s", yaml, err, field)
		}
	}
	_, err := Read("", []string{"ARREARS_PROCESSOR_MAX_POLL_RECORDS=many"})
	if err == nil || !strings.Contains(err.Error(), "ARREARS_PROCESSOR_MAX_POLL_RECORDS") {
		t.Errorf("bad env value: error %v does not name the variable", err)
	}
}

// TestDLQSection: dlq.max_payload_bytes defaults to the dead letter's own
// default, is read from file and environment, and reaches the processor
// and the sink.
func TestDLQSection(t *testing.T) {
	if got := Defaults().ProcessorConfig().DLQMaxPayload; got != event.DefaultMaxDeadLetterPayload {
		t.Errorf("default processor DLQMaxPayload = %d, want %d", got, event.DefaultMaxDeadLetterPayload)
	}
	cfg, err := Read("", []string{"ARREARS_DLQ_MAX_PAYLOAD_BYTES=1024"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DLQ.MaxPayloadBytes != 1024 || cfg.ProcessorConfig().DLQMaxPayload != 1024 || cfg.SinkConfig().DLQMaxPayload != 1024 {
		t.Errorf("dlq.max_payload_bytes = %d, processor gets %d, sink %d, want 1024", cfg.DLQ.MaxPayloadBytes,
			cfg.ProcessorConfig().DLQMaxPayload, cfg.SinkConfig().DLQMaxPayload)
	}
	if !EnvNames()["ARREARS_DLQ_MAX_PAYLOAD_BYTES"] {
		t.Error("EnvNames lacks ARREARS_DLQ_MAX_PAYLOAD_BYTES")
	}
}

// TestWriteFileRoundTrip: a Config written for a child reads back equal,
// with the secrets out of the file and in the returned environment.
func TestWriteFileRoundTrip(t *testing.T) {
	c := Defaults()
	c.Kafka.Topics.Events, c.Kafka.Partitions, c.Redis.Prefix = "x.events", 3, "x"
	c.Processor.Time, c.HTTP.Listen, c.Log.Level = "simulated", "127.0.0.1:1234", "warn"
	c.Sink.FlushInterval, c.DLQ.MaxPayloadBytes = 1500*time.Millisecond, 4096
	c.Redis.Password, c.ClickHouse.Password = "r-secret", "ch-secret"
	path := filepath.Join(t.TempDir(), "child.yaml")
	env, err := c.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret") {
		t.Errorf("a secret is in the file:\n%s", b)
	}
	slices.Sort(env)
	if want := []string{"ARREARS_CLICKHOUSE_PASSWORD=ch-secret", "ARREARS_REDIS_PASSWORD=r-secret"}; !slices.Equal(env, want) {
		t.Errorf("secret env = %v, want %v", env, want)
	}
	got, err := Read(path, env)
	if err != nil {
		t.Fatal(err)
	}
	// compared as YAML: an empty list or map reads back empty, not nil
	if g, w := mustYAML(t, got), mustYAML(t, c); g != w {
		t.Errorf("read back\n%s\nwant\n%s", g, w)
	}
	if c.Redis.Password != "r-secret" {
		t.Error("WriteFile changed its receiver's secrets")
	}
}

func TestChildEnv(t *testing.T) {
	got := ChildEnv([]string{"PATH=/bin", "ARREARS_KAFKA_BROKERS=a:1", "ARREARS_CONFIG=x.yaml", "HOME=/h"})
	if want := []string{"PATH=/bin", "HOME=/h"}; !slices.Equal(got, want) {
		t.Errorf("ChildEnv = %v, want %v", got, want)
	}
}

func mustYAML(t *testing.T, c Config) string {
	t.Helper()
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
