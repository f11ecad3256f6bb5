package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

func policyYAML(name string, grace int) []byte {
	return []byte("name: " + name + "\nselection: {segments: [postpaid]}\nmin_overdue: {EUR: \"1\"}\ngrace_days: " +
		string(rune('0'+grace)) + "\nstages:\n  - {name: s, days_past_due: 1, actions: [{type: suspend}]}\n")
}

func mkVersion(t *testing.T, name string, grace int, eff, applied time.Time) Version {
	t.Helper()
	p, err := Load(policyYAML(name, grace), name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadRecord(Record{Name: name, Version: p.Version, EffectiveFrom: eff, AppliedAt: applied, YAML: policyYAML(name, grace)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTimelineAt: each instant decides with the latest version effective
// at or before it; before any, the base (files); of equal instants the
// later applied; a version scheduled before an earlier-applied later one
// still takes its slot.
func TestTimelineAt(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	base, err := NewSet(mustLoad(t, "p", "{segments: [postpaid]}"), mustLoad(t, "q", "{segments: [prepaid]}"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := mkVersion(t, "p", 1, t0.Add(time.Hour), t0)
	v3 := mkVersion(t, "p", 3, t0.Add(3*time.Hour), t0.Add(time.Minute))
	v2 := mkVersion(t, "p", 2, t0.Add(2*time.Hour), t0.Add(2*time.Minute))  // applied after v3, effective before
	v2b := mkVersion(t, "p", 4, t0.Add(2*time.Hour), t0.Add(3*time.Minute)) // same instant, applied later: wins
	tl, err := NewTimeline(base, []Version{v3, v2, v1, v2b, v1})            // v1 twice: counted once
	if err != nil {
		t.Fatal(err)
	}
	if tl.Len() != 4 {
		t.Fatalf("Len %d, want 4", tl.Len())
	}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0, base.Get("p").Version},
		{t0.Add(time.Hour - time.Millisecond), base.Get("p").Version},
		{t0.Add(time.Hour), v1.Version},
		{t0.Add(2*time.Hour - 1), v1.Version},
		{t0.Add(2 * time.Hour), v2b.Version},
		{t0.Add(3 * time.Hour), v3.Version},
		{t0.Add(1000 * time.Hour), v3.Version},
	} {
		got := tl.At(tc.at).Select(event.Postpaid, "", "")
		if got.Version != tc.want {
			t.Errorf("At(%s): p@%s, want %s", tc.at.Format(time.TimeOnly), got.Version, tc.want)
		}
		if q := tl.At(tc.at).Get("q"); q == nil || q != base.Get("q") {
			t.Errorf("At(%s): the base's policy q is gone", tc.at.Format(time.TimeOnly))
		}
		if a, ok := tl.Active("p", tc.at); tc.want != base.Get("p").Version && (!ok || a.Version != tc.want) {
			t.Errorf("Active(p, %s) = %s %v, want %s", tc.at.Format(time.TimeOnly), a.Version, ok, tc.want)
		}
	}
	if h := tl.History(); len(h) != 1 || len(h[0]) != 4 || h[0][0].Version != v1.Version {
		t.Errorf("History %v", h)
	}
	// a candidate for p replaces it at every instant; q keeps the base's
	cand := mkVersion(t, "p", 7, t0, t0).Policy
	ov, err := tl.Override(cand)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{t0, t0.Add(2 * time.Hour), t0.Add(1000 * time.Hour)} {
		if got := ov.At(at).Get("p"); got != cand {
			t.Errorf("Override At(%s): p@%s, want the candidate", at.Format(time.TimeOnly), got.Version)
		}
		if ov.At(at).Get("q") != base.Get("q") {
			t.Errorf("Override At(%s): q changed", at.Format(time.TimeOnly))
		}
	}
}

// TestTimelineNoBase: without files, a policy exists from its first
// version's effective_from.
func TestTimelineNoBase(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tl, err := NewTimeline(nil, []Version{mkVersion(t, "p", 1, t0, t0)})
	if err != nil {
		t.Fatal(err)
	}
	if s := tl.At(t0.Add(-time.Millisecond)); s != nil {
		t.Errorf("before the first version: %v, want no set", s.Policies())
	}
	if p := tl.At(t0).Select(event.Postpaid, "", ""); p == nil || p.Name != "p" {
		t.Errorf("at the first version: %v", p)
	}
}

// TestLoadRecord: the record's name and version must be its YAML's, and
// the YAML passes the strict loader.
func TestLoadRecord(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	good := mkVersion(t, "p", 1, t0, t0).Record
	bad := good
	bad.Version = "000000000000"
	if _, err := LoadRecord(bad); !errors.Is(err, ErrRecordMismatch) {
		t.Errorf("wrong version: %v", err)
	}
	bad = good
	bad.EffectiveFrom = time.Time{}
	if _, err := LoadRecord(bad); !errors.Is(err, ErrNoEffectiveFrom) {
		t.Errorf("no effective_from: %v", err)
	}
	bad = good
	bad.YAML = []byte(strings.Replace(string(good.YAML), "grace_days", "grace_dayz", 1))
	var es Errors
	if _, err := LoadRecord(bad); !errors.As(err, &es) {
		t.Errorf("unknown field: %v", err)
	}
	r := good
	r.Previous = []Record{good, good}
	if f := r.Flatten(); len(f) != 3 || f[2].Previous != nil {
		t.Errorf("Flatten: %d", len(f))
	}
}

// TestDiff: field-level changes, stages matched by name.
func TestDiff(t *testing.T) {
	old := []byte(`name: p
selection: {segments: [postpaid]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 4, actions: [{type: notify, channel: email, template: r}]}
  - {name: sms, days_past_due: 8, actions: [{type: notify, channel: sms, template: s}]}
  - {name: suspension, days_past_due: 20, actions: [{type: suspend}]}
`)
	neu := []byte(`# comments and key order do not count
name: p
min_overdue: {EUR: "10.00", GBP: "8.00"}
selection: {segments: [postpaid]}
stages:
  - {name: reminder, days_past_due: 4, actions: [{type: notify, channel: sms, template: r}]}
  - {name: suspension, days_past_due: 20, actions: [{type: suspend}]}
`)
	cs, err := Diff(old, neu)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.String())
	}
	want := []string{
		`~ min_overdue.EUR: "5.00" -> "10.00"`,
		`+ min_overdue.GBP: "8.00"`,
		`~ stages[0](reminder).actions[0].channel: email -> sms`,
		`- stages[1]: {actions: [{channel: sms, template: s, type: notify}], days_past_due: 8, name: sms}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Diff:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// scalars as written: a date stays a date, not a timestamp
	cs, err = Diff([]byte("contact: {holidays: [2026-12-25]}\n"), []byte("contact: {holidays: [2026-12-25, 2026-12-26]}\n"))
	if err != nil || len(cs) != 1 || cs[0].String() != "+ contact.holidays[1]: 2026-12-26" {
		t.Errorf("dates: %v %v", cs, err)
	}
	if cs, _ := Diff(old, old); len(cs) != 0 {
		t.Errorf("same policy: %v", cs)
	}
}
