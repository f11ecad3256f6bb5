package chsink

import (
	"strings"
	"testing"
)

func TestConfigValidateNamesField(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for field, mut := range map[string]func(*Config){
		"sink.group_id":             func(c *Config) { c.GroupID = "" },
		"sink.batch_rows":           func(c *Config) { c.BatchRows = 0 },
		"sink.flush_interval":       func(c *Config) { c.FlushInterval = 0 },
		"sink.retry_max":            func(c *Config) { c.RetryMax = c.RetryInitial / 2 },
		"sink.fetch_max_bytes":      func(c *Config) { c.FetchMaxBytes = 10 },
		"sink.stall_timeout":        func(c *Config) { c.StallTimeout = 0 },
		"dlq.max_payload_bytes":     func(c *Config) { c.DLQMaxPayload = 0 },
		"clickhouse.database":       func(c *Config) { c.ClickHouse.Database = "a-b; DROP" },
		"clickhouse.addrs[0]":       func(c *Config) { c.ClickHouse.Addrs = []string{"nohost"} },
		"clickhouse.max_open_conns": func(c *Config) { c.ClickHouse.MaxOpenConns = 0 },
	} {
		c := Defaults()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: Validate() = %v", field, err)
		}
	}
}
