package chsink

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/arrears/arrears/analytics"
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

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("dial tcp 127.0.0.1:9000: connect: connection refused"), true},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 60, Message: "Table x doesn't exist"}), true},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 252, Message: "Too many parts"}), true},
		{fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 53, Message: "Type mismatch"}), false},
		{fmt.Errorf("insert: %w", &analytics.RowError{Index: 3, Err: errors.New("bad decimal")}), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
