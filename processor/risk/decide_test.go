package risk

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestDecideTierChanges(t *testing.T) {
	sc := mustLoad(t, binned)
	cfg := Config{} // tier changes only
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var st State
	var events []string
	seen := map[string]bool{}
	steps := []struct {
		f        Features
		wantEmit bool
		tier     string
	}{
		{Features{TenureDays: 3000}, true, "LOW"}, // first score: "" -> LOW
		{Features{TenureDays: 3000}, false, "LOW"},
		{Features{TenureDays: 3000, DaysPastDue: 5}, false, "LOW"},
		{Features{TenureDays: 3000, DaysPastDue: 45}, true, "MEDIUM"},
		{Features{TenureDays: 3000, DaysPastDue: 60}, false, "MEDIUM"},
		{Features{TenureDays: 3000, DaysPastDue: 120, Reversals: 3, BrokenPromises: 3}, true, "VERY_HIGH"},
		{Features{TenureDays: 3000, DaysPastDue: 120, Reversals: 3, BrokenPromises: 3}, false, "VERY_HIGH"},
		{Features{TenureDays: 3000}, true, "LOW"},
	}
	for i, s := range steps {
		r := sc.Score(s.f)
		if r.Tier != s.tier {
			t.Fatalf("step %d: tier %s (PD %.4f), test wants %s", i, r.Tier, r.PD, s.tier)
		}
		prev := st.Tier
		next, ev := Decide(st, r, cfg, "ACC1", now, "evt-"+string(rune('a'+i)))
		if (ev != nil) != s.wantEmit {
			t.Fatalf("step %d: emitted %v, want %v", i, ev != nil, s.wantEmit)
		}
		if ev == nil {
			if next != st {
				t.Fatalf("step %d: state changed without an event", i)
			}
			continue
		}
		if ev.Tier != r.Tier || ev.PreviousTier != prev || ev.PD != QuantizePD(r.PD) || ev.Score != r.Score ||
			ev.ModelVersion != sc.Version() || ev.Account != "ACC1" || !ev.Time.Equal(now) || len(ev.Reasons) != r.NumReasons {
			t.Fatalf("step %d: event %+v for result %+v", i, ev, r)
		}
		if seen[ev.EventID] || len(ev.EventID) != 32 {
			t.Fatalf("step %d: event id %q reused or malformed", i, ev.EventID)
		}
		seen[ev.EventID] = true
		if next.Tier != r.Tier || next.PD != QuantizePD(r.PD) || next.Seq != st.Seq+1 {
			t.Fatalf("step %d: next state %+v", i, next)
		}
		events = append(events, ev.EventID)
		st = next
	}
	if len(events) != 4 {
		t.Fatalf("%d events", len(events))
	}

	// replay from the zero state gives the same ids
	var st2 State
	var replay []string
	for i, s := range steps {
		next, e := Decide(st2, sc.Score(s.f), cfg, "ACC1", now, "evt-"+string(rune('a'+i)))
		if e != nil {
			replay = append(replay, e.EventID)
		}
		st2 = next
	}
	for i := range events {
		if replay[i] != events[i] {
			t.Fatalf("replay id %d = %s, first run %s", i, replay[i], events[i])
		}
	}
}

func TestDecidePDDelta(t *testing.T) {
	st := State{Tier: "MEDIUM", PD: 0.10, Seq: 4}
	r := Result{Tier: "MEDIUM", PD: 0.14, ModelVersion: "v"}
	cfg := Config{PDDelta: 0.05}
	if _, ev := Decide(st, r, cfg, "A", time.Time{}, "e1"); ev != nil {
		t.Fatal("emitted for a 0.04 move under a 0.05 threshold")
	}
	r.PD = 0.16
	next, ev := Decide(st, r, cfg, "A", time.Time{}, "e2")
	if ev == nil || ev.PreviousTier != "MEDIUM" || next.PD != 0.16 || next.Seq != 5 {
		t.Fatalf("move of 0.06: %+v %+v", ev, next)
	}
	// measured from the last emitted PD: drift accumulates, then emits once
	st = next
	r.PD = 0.19
	if _, ev := Decide(st, r, cfg, "A", time.Time{}, "e3"); ev != nil {
		t.Fatal("emitted for a 0.03 move")
	}
	r.PD = 0.10
	if _, ev := Decide(st, r, cfg, "A", time.Time{}, "e4"); ev == nil {
		t.Fatal("no event for a 0.06 fall")
	}
	// PDDelta 0: tier changes only
	if _, ev := Decide(State{Tier: "MEDIUM", PD: 0.06}, Result{Tier: "MEDIUM", PD: 0.19}, Config{}, "A", time.Time{}, "e"); ev != nil {
		t.Fatal("emitted with PDDelta 0 and the same tier")
	}
	// a zero Result never emits
	if _, ev := Decide(State{}, Result{}, cfg, "A", time.Time{}, "e"); ev != nil {
		t.Fatal("zero result emitted")
	}
}

func TestDecideEventIDs(t *testing.T) {
	r := Result{Tier: "HIGH", PD: 0.3, ModelVersion: "v1"}
	id := func(st State, acc, trig string, r Result) string {
		_, ev := Decide(st, r, Config{}, acc, time.Time{}, trig)
		return ev.EventID
	}
	base := id(State{}, "A", "e", r)
	if base != id(State{}, "A", "e", r) {
		t.Fatal("not deterministic")
	}
	r2 := r
	r2.ModelVersion = "v2"
	for name, other := range map[string]string{
		"account": id(State{}, "B", "e", r),
		"trigger": id(State{}, "A", "f", r),
		"seq":     id(State{Seq: 1}, "A", "e", r),
		"model":   id(State{}, "A", "e", r2),
		"concat":  id(State{}, "Ae", "", r),
	} {
		if other == base {
			t.Errorf("changing the %s kept the id", name)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []float64{-0.1, 1, math.NaN()} {
		if err := (Config{PDDelta: d}).Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("PDDelta %v: %v", d, err)
		}
	}
}
