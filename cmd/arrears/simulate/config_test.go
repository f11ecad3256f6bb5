package simulate

import (
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// TestConfigValidate: the defaults are valid; an unknown channel, a
// negative cost and a GC target out of range are refused, each named by
// its key.
func TestConfigValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := Config{ContactCost: map[event.Channel]float64{"fax": 1, event.SMS: -1, event.Letter: 0}, GCPercent: 5}
	err := c.Validate()
	for _, want := range []string{"simulate.contact_cost.fax", "simulate.contact_cost.sms", "simulate.gc_percent"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "contact_cost.letter") {
		t.Errorf("a zero cost refused: %v", err)
	}
}
