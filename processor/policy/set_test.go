package policy

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

func mustLoad(t *testing.T, name, selection string) *Policy {
	t.Helper()
	src := fmt.Sprintf("name: %s\nselection: %s\nmin_overdue: {EUR: \"1\"}\nstages:\n  - {name: s, days_past_due: 1, actions: [{type: suspend}]}\n", name, selection)
	p, err := Load([]byte(src), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelect(t *testing.T) {
	set, err := NewSet(
		mustLoad(t, "post-generic", "{segments: [postpaid]}"),
		mustLoad(t, "post-generic-b", "{segments: [postpaid]}"),
		mustLoad(t, "post-gold", "{segments: [postpaid], credit_classes: [gold]}"),
		mustLoad(t, "post-high", "{segments: [postpaid], risk_tiers: [HIGH]}"),
		mustLoad(t, "post-high-prio", "{segments: [postpaid], risk_tiers: [HIGH], priority: 5}"),
		mustLoad(t, "post-gold-high", "{segments: [postpaid], credit_classes: [gold], risk_tiers: [HIGH]}"),
		mustLoad(t, "corp", "{segments: [corporate, wholesale], priority: -1}"),
		mustLoad(t, "whole", "{segments: [wholesale]}"),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		seg         event.Segment
		class, tier string
		want        string
	}{
		{event.Postpaid, "", "", "post-generic"}, // equal: smaller name wins
		{event.Postpaid, "silver", "LOW", "post-generic"},
		{event.Postpaid, "gold", "LOW", "post-gold"},
		{event.Postpaid, "silver", "HIGH", "post-high-prio"}, // equally specific: priority
		{event.Postpaid, "gold", "HIGH", "post-gold-high"},   // most specific
		{event.Corporate, "", "", "corp"},
		{event.Wholesale, "", "", "whole"}, // priority 0 beats -1
		{event.Prepaid, "", "", ""},
	}
	for _, tc := range tests {
		got := set.Select(tc.seg, tc.class, tc.tier)
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != tc.want {
			t.Errorf("Select(%s, %q, %q) = %q, want %q", tc.seg, tc.class, tc.tier, name, tc.want)
		}
	}
	if _, err := set.Require(event.Prepaid, "", ""); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("Require: %v", err)
	}
	if _, err := NewSet(mustLoad(t, "a", "{segments: [prepaid]}"), mustLoad(t, "a", "{segments: [postpaid]}")); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestNextAllowed(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	w, _ := ParseWindow("21:00-08:00")
	hol, _ := event.ParseDate("2024-12-25")
	c := ContactRules{
		QuietHours: &w, QuietChannels: []event.Channel{event.SMS},
		Holidays:       []event.Date{hol},
		ClosedWeekdays: map[event.Channel][]time.Weekday{event.Letter: {time.Sunday}},
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		in   string
		ch   event.Channel
		want string
	}{
		{"2024-08-12 10:00", event.SMS, "2024-08-12 10:00"},
		{"2024-08-12 22:30", event.SMS, "2024-08-13 08:00"},
		{"2024-08-12 03:00", event.SMS, "2024-08-12 08:00"},
		{"2024-08-12 22:30", event.Email, "2024-08-12 22:30"},  // quiet hours: sms only
		{"2024-08-11 10:00", event.Letter, "2024-08-12 00:00"}, // Sunday
		{"2024-12-24 23:00", event.SMS, "2024-12-26 08:00"},    // quiet, then holiday
		{"2024-03-30 23:00", event.SMS, "2024-03-31 08:00"},    // across the DST change
	}
	for _, tc := range tests {
		got := c.NextAllowed(at(tc.in), tc.ch, berlin)
		if !got.Equal(at(tc.want)) {
			t.Errorf("NextAllowed(%s, %s) = %s, want %s", tc.in, tc.ch, got.In(berlin), tc.want)
		}
	}
}
