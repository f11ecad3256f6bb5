package dunning

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestArmsStickyAndEncoded: the first arm kept for an experiment wins over
// later ones; the assignments round-trip through the encoding (version
// 3), a state without any encodes as version 2, exactly as before; the
// list is bounded.
func TestArmsStickyAndEncoded(t *testing.T) {
	var s State
	plain, _ := s.MarshalBinary()
	if plain[0] != stateVersion {
		t.Fatalf("a state without experiments encodes as version %d, want %d", plain[0], stateVersion)
	}
	s, changed := s.InExperiment("E1", true)
	if !changed {
		t.Fatal("first assignment: no change")
	}
	if s, changed = s.InExperiment("E1", false); changed {
		t.Fatal("re-evaluation under the same experiment changed the state")
	}
	if ch, ok := s.ArmIn("E1"); !ok || !ch {
		t.Fatalf("E1 arm = %v %v, want the first one kept (challenger)", ch, ok)
	}
	s.Episode, s.NextWake = 3, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != stateVersionV3 {
		t.Fatalf("version %d, want %d", b[0], stateVersionV3)
	}
	var back State
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %+v, want %+v", back, s)
	}
	if exp, ch, ok := back.CurrentArm(); exp != "E1" || !ch || !ok {
		t.Fatalf("CurrentArm = %q %v %v", exp, ch, ok)
	}
	// Leaving the experiment keeps the assignment (it comes back if the
	// account does) and clears the current one.
	out, changed := back.InExperiment("", false)
	if !changed || out.Experiment != "" || len(out.Arms) != 1 {
		t.Fatalf("outside: %+v changed %v", out, changed)
	}
	if _, _, ok := out.CurrentArm(); ok {
		t.Fatal("CurrentArm outside experiments")
	}
	b2, _ := out.MarshalBinary()
	var back2 State
	if err := back2.UnmarshalBinary(b2); err != nil || !reflect.DeepEqual(back2, out) {
		t.Fatalf("round trip outside: %+v %v", back2, err)
	}
	// Bounded: the oldest not current goes.
	for i := 0; i < 2*MaxArms; i++ {
		out, _ = out.InExperiment(fmt.Sprintf("X%d", i), i%2 == 0)
	}
	if len(out.Arms) != MaxArms || out.Experiment != fmt.Sprintf("X%d", 2*MaxArms-1) {
		t.Fatalf("%d arms, current %q", len(out.Arms), out.Experiment)
	}
	if _, ok := out.ArmIn("E1"); ok {
		t.Error("the oldest assignment was kept past MaxArms")
	}
	// Aliasing: changing a copy's arms never changes the original's.
	before := append([]ArmAssignment(nil), s.Arms...)
	_, _ = s.InExperiment("E2", false)
	if !reflect.DeepEqual(s.Arms, before) {
		t.Error("InExperiment modified the state passed in")
	}
}

// TestArmsCorrupt: flags bit 8 on a version-2 state, an arm byte other
// than 0/1 and a current index past the list are refused.
func TestArmsCorrupt(t *testing.T) {
	s, _ := State{}.InExperiment("E1", true)
	b, _ := s.MarshalBinary()
	v2 := append([]byte(nil), b...)
	v2[0] = stateVersion
	badArm := append([]byte(nil), b...)
	badArm[len(badArm)-2] = 7 // the arm byte, before the current index
	badCur := append([]byte(nil), b...)
	badCur[len(badCur)-1] = 5
	for name, data := range map[string][]byte{"bit 8 in v2": v2, "arm byte": badArm, "current index": badCur} {
		var n State
		if err := n.UnmarshalBinary(data); !errors.Is(err, ErrStateCorrupt) {
			t.Errorf("%s: %v, want ErrStateCorrupt", name, err)
		}
	}
}
