package chsink

import (
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/testkit"
)

// TestEraseConfig: sink.erase_username needs its password, and neither
// the erase password nor the ClickHouse password is printed or logged.
func TestEraseConfig(t *testing.T) {
	c := Defaults()
	c.EraseUsername = "sink_erase"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "sink.erase_password") {
		t.Errorf("erase_username without a password: %v, want an error naming sink.erase_password", err)
	}
	c.ErasePassword = "s3cret-erase"
	if err := c.Validate(); err != nil {
		t.Errorf("erase_username with its password: %v", err)
	}
	testkit.CheckRedacted(t, c, "s3cret-erase", "sink_erase")
	c.ClickHouse.Password = "s3cret-sink"
	testkit.CheckRedacted(t, c, "s3cret-sink", "sink_erase")
}
