package processor

import (
	"strings"
	"testing"
	"time"
)

// TestMaxApplyPerTxn: processor.max_apply_per_txn defaults to 50ms and is
// refused, by name, at zero and at or past transaction_timeout.
func TestMaxApplyPerTxn(t *testing.T) {
	c := Defaults()
	if c.MaxApplyPerTxn != 50*time.Millisecond {
		t.Errorf("default max_apply_per_txn %s, want 50ms", c.MaxApplyPerTxn)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Second, c.TransactionTimeout} {
		c := Defaults()
		c.MaxApplyPerTxn = d
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "processor.max_apply_per_txn") {
			t.Errorf("max_apply_per_txn %s: got %v, want an error naming it", d, err)
		}
	}
}
