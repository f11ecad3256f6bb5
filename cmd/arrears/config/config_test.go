package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	cfg, err := loadConfig(flag.NewFlagSet("x", flag.ContinueOnError), []string{"-config", path})
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
		"kafka:\n  topics:\n    dlq: ar.events\n": "kafka.topics.dlq",
		"log:\n  level: loud\n":                   "log.level",
		"kafka:\n  brokerz: [\"a:1\"]\n":          "brokerz",
		"core:\n  risk_pd_delta: 2\n":             "core.risk_pd_delta",
	}
	for yaml, field := range cases {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadConfig(flag.NewFlagSet("x", flag.ContinueOnError), []string{"-config", path})
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("config %q: error %v does not name %s", yaml, err, field)
		}
	}
	t.Setenv("ARREARS_PROCESSOR_MAX_POLL_RECORDS", "many")
	_, err := loadConfig(flag.NewFlagSet("x", flag.ContinueOnError), nil)
	if err == nil || !strings.Contains(err.Error(), "ARREARS_PROCESSOR_MAX_POLL_RECORDS") {
		t.Errorf("bad env value: error %v does not name the variable", err)
	}
}
