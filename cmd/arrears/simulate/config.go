package simulate

import (
	"errors"
	"fmt"
	"slices"

	"github.com/arrears/arrears/processor/event"
)

// Config is the simulate section.
type Config struct {
	// ContactCost is the cost of one contact per channel, in the
	// reporting currency (defaults: email 0.01, sms 0.05, letter 0.80,
	// push 0.005). A channel left out costs 0.
	ContactCost map[event.Channel]float64 `yaml:"contact_cost"`
	// GCPercent is the Go garbage collector's target while simulating
	// (default 300: the books are large and long-lived, and at the
	// runtime's 100 the collector takes half the time; the GOGC
	// environment variable wins; processor.memory_limit, when set, still
	// bounds the heap). Between 25 and 10000.
	GCPercent int `yaml:"gc_percent"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{ContactCost: map[event.Channel]float64{event.Email: 0.01, event.SMS: 0.05, event.Letter: 0.80, event.Push: 0.005},
		GCPercent: 300}
}

// Validate names the bad field.
func (c Config) Validate() error {
	var errs []error
	known := []event.Channel{event.Email, event.SMS, event.Letter, event.Push}
	for ch, v := range c.ContactCost {
		if !slices.Contains(known, ch) {
			errs = append(errs, fmt.Errorf("simulate.contact_cost.%s: not a channel (email, sms, letter, push)", ch))
		} else if v < 0 || v != v {
			errs = append(errs, fmt.Errorf("simulate.contact_cost.%s: %v is not a cost (>= 0)", ch, v))
		}
	}
	if c.GCPercent < 25 || c.GCPercent > 10000 {
		errs = append(errs, fmt.Errorf("simulate.gc_percent: %d is not between 25 and 10000", c.GCPercent))
	}
	return errors.Join(errs...)
}
