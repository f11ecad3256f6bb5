package processor

import (
	"strings"
	"testing"
	"time"
)

// TestTxnDurations: processor.max_apply_per_txn defaults to 50ms and
// produce_linger to 20ms; each is refused, by name, where it makes no sense
// (below its minimum, at or past transaction_timeout).
func TestTxnDurations(t *testing.T) {
	d := Defaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		at   func(*Config) *time.Duration
		def  time.Duration
		bad  []time.Duration
	}{
		{"processor.max_apply_per_txn", func(c *Config) *time.Duration { return &c.MaxApplyPerTxn }, 50 * time.Millisecond,
			[]time.Duration{0, -time.Second, d.TransactionTimeout}},
		{"processor.produce_linger", func(c *Config) *time.Duration { return &c.ProduceLinger }, 20 * time.Millisecond,
			[]time.Duration{-time.Millisecond, d.TransactionTimeout}},
	} {
		if got := *tc.at(&d); got != tc.def {
			t.Errorf("default %s %s, want %s", tc.name, got, tc.def)
		}
		for _, v := range tc.bad {
			c := Defaults()
			*tc.at(&c) = v
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("%s %s: got %v, want an error naming it", tc.name, v, err)
			}
		}
	}
	c := Defaults()
	c.ProduceLinger = 0 // franz-go's "send at once"
	if err := c.Validate(); err != nil {
		t.Errorf("produce_linger 0: %v", err)
	}
}

// TestMaxWakesFresh: processor.max_wakes_fresh defaults to a twentieth of
// max_wakes_per_txn, is taken as set, and is refused, by name, below 0 or
// past max_wakes_per_txn.
func TestMaxWakesFresh(t *testing.T) {
	c := Defaults()
	if c.wakesFresh() != 100 {
		t.Errorf("default wake budget with fresh input %d, want 100 (2000 / 20)", c.wakesFresh())
	}
	c.MaxWakesPerTxn = 3
	if c.wakesFresh() != 1 {
		t.Errorf("a twentieth of 3 wake-ups is at least 1: %d", c.wakesFresh())
	}
	c = Defaults()
	c.MaxWakesFresh = 100
	if err := c.Validate(); err != nil || c.wakesFresh() != 100 {
		t.Errorf("max_wakes_fresh 100: %d, %v", c.wakesFresh(), err)
	}
	for _, n := range []int{-1, c.MaxWakesPerTxn + 1} {
		c := Defaults()
		c.MaxWakesFresh = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "processor.max_wakes_fresh") {
			t.Errorf("max_wakes_fresh %d: got %v, want an error naming it", n, err)
		}
	}
}

// TestFetchBounds: processor.fetch_max_bytes and fetch_max_partition_bytes
// default to 4 MiB and 256 KiB; each is at least 1 KiB and the partition's
// at most the fetch's, else Validate names it.
func TestFetchBounds(t *testing.T) {
	c := Defaults()
	if c.FetchMaxBytes != 4<<20 || c.FetchMaxPartitionBytes != 256<<10 || c.Validate() != nil {
		t.Fatalf("defaults %d, %d: %v", c.FetchMaxBytes, c.FetchMaxPartitionBytes, c.Validate())
	}
	for _, b := range []struct {
		fetch, part int
		field       string
	}{{512, 512, "processor.fetch_max_bytes"}, {4096, 512, "processor.fetch_max_partition_bytes"}, {4096, 8192, "processor.fetch_max_partition_bytes"}} {
		c := Defaults()
		c.FetchMaxBytes, c.FetchMaxPartitionBytes = b.fetch, b.part
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), b.field) {
			t.Errorf("%d, %d: %v, want %s named", b.fetch, b.part, err, b.field)
		}
	}
}
