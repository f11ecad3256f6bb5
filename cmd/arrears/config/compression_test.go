package config

import (
	"strings"
	"testing"
)

// TestKafkaCompression: kafka.compression is read from the file and from
// ARREARS_KAFKA_COMPRESSION, defaults to gzip, and a bad value is refused
// by its YAML path.
func TestKafkaCompression(t *testing.T) {
	cfg, err := Read("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kafka.Compression != "gzip" {
		t.Errorf("default kafka.compression %q, want gzip", cfg.Kafka.Compression)
	}
	if cfg, err = Decode([]byte("kafka:\n  compression: zstd\n")); err != nil || cfg.Kafka.Compression != "zstd" {
		t.Errorf("file kafka.compression: %q, %v", cfg.Kafka.Compression, err)
	}
	if cfg, err = Read("", []string{"ARREARS_KAFKA_COMPRESSION=lz4"}); err != nil || cfg.Kafka.Compression != "lz4" {
		t.Errorf("ARREARS_KAFKA_COMPRESSION=lz4: %q, %v", cfg.Kafka.Compression, err)
	}
	if _, err = Read("", []string{"ARREARS_KAFKA_COMPRESSION=brotli"}); err == nil || !strings.Contains(err.Error(), "kafka.compression") {
		t.Errorf("brotli: got %v, want an error naming kafka.compression", err)
	}
}
