package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// policyText is a minimal valid policy for segment with extra top-level YAML.
func policyText(name, extra string) string {
	return fmt.Sprintf("name: %s\nselection: {segments: [postpaid], priority: %d}\nmin_overdue: {EUR: \"1\"}\n"+
		"stages:\n  - {name: s, days_past_due: 1, actions: [{type: suspend}]}\n%s", name, priority(name), extra)
}

// priority: challengers (soft*) below the others.
func priority(name string) int {
	if strings.HasPrefix(name, "soft") {
		return -1
	}
	return 0
}

func TestChallengerParse(t *testing.T) {
	p, err := Load([]byte(policyText("champ", "challenger: {experiment: EXP-2026-12, policy: soft, share: 0.10}\n")), "champ.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Challenger
	if c == nil || c.Experiment != "EXP-2026-12" || c.Policy != "soft" || c.Share != 0.10 || c.File != "champ.yaml" || c.Line != 6 {
		t.Fatalf("challenger = %+v", c)
	}
	for name, tc := range map[string]struct{ yaml, field, msg string }{
		"share too big":  {"challenger: {experiment: E1, policy: soft, share: 0.6}", "challenger.share", "not in [0, 0.5]"},
		"share negative": {"challenger: {experiment: E1, policy: soft, share: -0.1}", "challenger.share", "not in [0, 0.5]"},
		"share too fine": {"challenger: {experiment: E1, policy: soft, share: 0.00001}", "challenger.share", "finer than"},
		"share text":     {"challenger: {experiment: E1, policy: soft, share: ten}", "challenger.share", "must be a number"},
		"unknown key":    {"challenger: {experiment: E1, policy: soft, share: 0.1, arms: 3}", "challenger.arms", ""},
		"no share":       {"challenger: {experiment: E1, policy: soft}", "challenger.share", "is required"},
		"no experiment":  {"challenger: {policy: soft, share: 0.1}", "challenger.experiment", "is required"},
		"bad id":         {"challenger: {experiment: \"EXP 1\", policy: soft, share: 0.1}", "challenger.experiment", "not an experiment id"},
		"empty policy":   {"challenger: {experiment: E1, policy: \"\", share: 0.1}", "challenger.policy", "must not be empty"},
		"not a mapping":  {"challenger: [E1]", "challenger", ""},
	} {
		_, err := Load([]byte(policyText("champ", tc.yaml+"\n")), "champ.yaml")
		var es Errors
		if !errors.As(err, &es) {
			t.Errorf("%s: err = %v, want Errors", name, err)
			continue
		}
		found := false
		for _, e := range es {
			found = found || (e.Field == tc.field && strings.Contains(e.Msg, tc.msg) && e.File == "champ.yaml" && e.Line == 6)
		}
		if !found {
			t.Errorf("%s: %v, want champ.yaml:6: %s: ...%s...", name, err, tc.field, tc.msg)
		}
	}
}

func mustSet(t *testing.T, files ...File) *Set {
	t.Helper()
	s, err := LoadSet(files)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExperimentSetChecks(t *testing.T) {
	soft := File{"soft.yaml", []byte(policyText("soft", ""))}
	champ := func(name, exp, chal string) File {
		return File{name + ".yaml", []byte(policyText(name, fmt.Sprintf("challenger: {experiment: %s, policy: %s, share: 0.1}\n", exp, chal)))}
	}
	s := mustSet(t, champ("champ", "E1", "soft"), soft)
	if got := s.Select(event.Postpaid, "", ""); got == nil || got.Name != "champ" {
		t.Fatalf("Select = %v, want champ (soft is a challenger: never selected on its own)", got)
	}
	if c, chal, ok := s.Experiment(s.Get("soft")); !ok || !chal || c.Experiment != "E1" {
		t.Errorf("Experiment(soft) = %+v %v %v", c, chal, ok)
	}
	if c, chal, ok := s.Experiment(s.Get("champ")); !ok || chal || c.Experiment != "E1" {
		t.Errorf("Experiment(champ) = %+v %v %v", c, chal, ok)
	}
	if s.ForArm(s.Get("champ"), true).Name != "soft" || s.ForArm(s.Get("champ"), false).Name != "champ" || s.ForArm(s.Get("soft"), true).Name != "soft" {
		t.Error("ForArm picks the wrong policy")
	}
	for name, tc := range map[string]struct {
		files      []File
		field, msg string
	}{
		"unknown":       {[]File{champ("champ", "E1", "nope")}, "challenger.policy", `unknown policy "nope"`},
		"itself":        {[]File{champ("champ", "E1", "champ")}, "challenger.policy", "its own challenger"},
		"chain":         {[]File{champ("champ", "E1", "mid"), champ("mid", "E2", "soft"), soft}, "challenger.policy", "cannot have a challenger"},
		"two owners":    {[]File{champ("a", "E1", "soft"), champ("b", "E2", "soft"), soft}, "challenger.policy", `already the challenger of "a"`},
		"same priority": {[]File{champ("champ", "E1", "twin"), {"twin.yaml", []byte(policyText("twin", ""))}}, "challenger.policy", "with a lower priority"},
		"other tiers": {[]File{champ("champ", "E1", "soft"), {"soft.yaml", []byte(strings.Replace(policyText("soft", ""), "segments: [postpaid]", "segments: [postpaid], risk_tiers: [HIGH]", 1))}},
			"challenger.policy", "must select the accounts"},
		"same exp id": {[]File{champ("a", "E1", "soft"), champ("b", "E1", "soft2"), soft, {"soft2.yaml", []byte(policyText("soft2", ""))}}, "challenger.experiment", `already run by "a"`},
	} {
		_, err := LoadSet(tc.files)
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 || es[0].Field != tc.field || !strings.Contains(es[0].Msg, tc.msg) || es[0].Line != 6 || !strings.HasSuffix(es[0].File, ".yaml") {
			t.Errorf("%s: %v, want file.yaml:6: %s: ...%s", name, err, tc.field, tc.msg)
		}
	}
}

// TestSplit: the done-when's split test on 100,000 accounts. A 10%
// challenger gets 10% +/- 0.5%; the assignment is a pure function (the
// same on every call, so on every instance and replay); at 20% every
// account of the 10% is still a challenger (the hash is compared with the
// share, so a larger share only adds accounts), and sticky state keeps the
// champions of the 10% where they were (TestExperimentSticky in core).
func TestSplit(t *testing.T) {
	const n = 100000
	ten, twenty := 0, 0
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("ACC-%07d", i)
		a := Assign("EXP-2026-12", acct, 0.10)
		if a != Assign("EXP-2026-12", acct, 0.10) {
			t.Fatalf("%s: assignment not deterministic", acct)
		}
		b := Assign("EXP-2026-12", acct, 0.20)
		if a && !b {
			t.Fatalf("%s: challenger at 10%% but champion at 20%%", acct)
		}
		if a {
			ten++
		}
		if b {
			twenty++
		}
	}
	if share := float64(ten) / n; share < 0.095 || share > 0.105 {
		t.Errorf("10%% challenger got %.4f of %d accounts", share, n)
	}
	if share := float64(twenty) / n; share < 0.195 || share > 0.205 {
		t.Errorf("20%% challenger got %.4f of %d accounts", share, n)
	}
	// Another experiment draws independently: its challengers overlap the
	// first's about as chance says (10% of 10%).
	both := 0
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("ACC-%07d", i)
		if Assign("EXP-2026-12", acct, 0.10) && Assign("EXP-2027-01", acct, 0.10) {
			both++
		}
	}
	if share := float64(both) / n; share < 0.008 || share > 0.012 {
		t.Errorf("two experiments' challengers overlap on %.4f of accounts, want about 0.01", share)
	}
	if Assign("E", "A", 0) || !Assign("E", "A", 1) {
		t.Error("share 0 must assign nobody, share 1 everybody")
	}
	t.Logf("10%%: %d, 20%%: %d of %d", ten, twenty, n)
}

// TestExperimentNotLinked: a set built from published versions (NewSet,
// as a Timeline does) whose experiment fails a check keeps deciding: the
// experiment does not run, its champion decides for every account, the
// named challenger still never decides alone, and the problem is kept for
// the caller to report. LoadSet refuses the same files.
func TestExperimentNotLinked(t *testing.T) {
	champ, err := Load([]byte(policyText("champ", "challenger: {experiment: E1, policy: twin, share: 0.5}\n")), "champ.yaml")
	if err != nil {
		t.Fatal(err)
	}
	twin, err := Load([]byte(policyText("twin", "")), "twin.yaml") // same priority as champ
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSet(champ, twin)
	if err != nil {
		t.Fatal(err)
	}
	if es := s.ExperimentErrors(); len(es) != 1 || es[0].Field != "challenger.policy" {
		t.Fatalf("ExperimentErrors = %v", es)
	}
	if _, _, ok := s.Experiment(champ); ok {
		t.Error("an unlinked experiment runs")
	}
	if got := s.ForArm(champ, true); got != champ {
		t.Errorf("ForArm(challenger) = %s, want the champion", got.Name)
	}
	if got := s.Select(event.Postpaid, "", ""); got != champ {
		t.Errorf("Select = %v, want champ (twin is named a challenger)", got)
	}
	if _, err := LoadSet([]File{{"champ.yaml", []byte(policyText("champ", "challenger: {experiment: E1, policy: twin, share: 0.5}\n"))}, {"twin.yaml", []byte(policyText("twin", ""))}}); err == nil {
		t.Error("LoadSet accepted an experiment that does not link")
	}
}
