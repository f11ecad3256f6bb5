package policy

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

const validPolicy = `name: test
selection: {segments: [postpaid]}
min_overdue: {EUR: "5.00"}
grace_days: 2
contact:
  quiet_hours: "21:00-08:00"
  closed_weekdays: {letter: [sunday]}
  cap: {max: 2, days: 7}
stages:
  - name: reminder
    days_past_due: 3
    actions:
      - {type: notify, channel: email, template: r1, fallback: [sms]}
  - name: suspend
    days_past_due: 20
    min_overdue: {EUR: "20"}
    actions:
      - {type: suspend}
      - {type: fee, amount: "2.50", currency: EUR}
arrangements: {grace_days: 3, resume_stage: suspend, restore_on_plan: true}
`

func TestLoadValid(t *testing.T) {
	p, err := Load([]byte(validPolicy), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "test" || len(p.Stages) != 2 || p.MinOverdue["EUR"] != event.MustAmount("5") {
		t.Fatalf("unexpected policy %+v", p)
	}
	if len(p.Version) != 12 {
		t.Fatalf("version %q", p.Version)
	}
	if got := p.Stages[1].Actions[1]; got.Type != event.ActionFee || got.Amount != event.MustAmount("2.5") {
		t.Fatalf("fee action %+v", got)
	}
	if p.Contact.QuietHours.String() != "21:00-08:00" || p.Contact.Cap.Max != 2 {
		t.Fatalf("contact %+v", p.Contact)
	}
	// Comments and layout do not change the version; a value does.
	p2, err := Load([]byte("# a comment\n"+strings.Replace(validPolicy, "grace_days: 2", "grace_days:    2 # two", 1)), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Version != p.Version {
		t.Fatalf("cosmetic edit changed version %s -> %s", p.Version, p2.Version)
	}
	p3, err := Load([]byte(strings.Replace(validPolicy, "grace_days: 2", "grace_days: 3", 1)), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p3.Version == p.Version {
		t.Fatal("a changed value kept the version")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want []string // "line:field:substring" for each expected error
	}{
		{"unknown action type", func(s string) string {
			return strings.Replace(s, "{type: suspend}", "{type: disconnect}", 1)
		}, []string{`18:stages[1].actions[0].type:unknown action type "disconnect"`}},
		{"stages out of order", func(s string) string {
			return strings.Replace(s, "days_past_due: 20", "days_past_due: 1", 1)
		}, []string{"15:stages[1].days_past_due:stages out of order"}},
		{"missing currency threshold", func(s string) string {
			return strings.Replace(strings.Replace(s, `{EUR: "20"}`, `{USD: "20"}`, 1), "currency: EUR}", "currency: GBP}", 1)
		}, []string{"14:stages[1].min_overdue.USD:no threshold", "14:stages[1].actions[1].currency:no threshold"}},
		{"bad quiet hours", func(s string) string {
			return strings.Replace(s, "21:00-08:00", "21h-8h", 1)
		}, []string{"6:contact.quiet_hours:not HH:MM"}},
		{"unknown weekday", func(s string) string {
			return strings.Replace(s, "[sunday]", "[sundae]", 1)
		}, []string{`7:contact.closed_weekdays.letter[0]:unknown weekday "sundae"`}},
		{"duplicate stage names", func(s string) string {
			return strings.Replace(s, "name: suspend", "name: reminder", 1)
		}, []string{`14:stages[1].name:duplicate stage name "reminder"`, `20:arrangements.resume_stage:unknown stage "suspend"`}},
		{"several at once", func(s string) string {
			s = strings.Replace(s, "channel: email", "channel: pigeon", 1)
			s = strings.Replace(s, "grace_days: 2", "grace_days: -1", 1)
			return strings.Replace(s, "segments: [postpaid]", "segments: [retail]", 1)
		}, []string{`2:selection.segments[0]:unknown segment "retail"`, "4:grace_days:out of range",
			`13:stages[0].actions[0].channel:unknown channel "pigeon"`}},
		{"missing required", func(s string) string {
			return strings.Replace(strings.Replace(s, `min_overdue: {EUR: "5.00"}`+"\n", "", 1), "template: r1, ", "", 1)
		}, []string{"1:min_overdue:is required", "12:stages[0].actions[0].template:is required"}},
		{"unknown field", func(s string) string {
			return strings.Replace(s, "grace_days: 2", "grace_dayz: 2", 1)
		}, []string{"4:grace_dayz:unknown field"}},
		{"bad amount", func(s string) string {
			return strings.Replace(s, `amount: "2.50"`, `amount: "2.50001"`, 1)
		}, []string{"19:stages[1].actions[1].amount:more than 4 decimal places"}},
		{"cap needs both", func(s string) string {
			return strings.Replace(s, "cap: {max: 2, days: 7}", "cap: {max: 2}", 1)
		}, []string{"8:contact.cap:needs both"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.edit(validPolicy)), "p.yaml")
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("want Errors, got %v", err)
			}
			var got []string
			for _, e := range es {
				if e.File != "p.yaml" {
					t.Errorf("file %q", e.File)
				}
				got = append(got, strings.Join([]string{itoa(e.Line), e.Field, e.Msg}, ":"))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			for i := range want {
				prefix, sub, _ := strings.Cut(want[i], ":")
				field, msg, _ := strings.Cut(sub, ":")
				if !strings.HasPrefix(got[i], prefix+":"+field+":") || !strings.Contains(got[i], msg) {
					t.Errorf("error %d = %q, want line %s field %s containing %q", i, got[i], prefix, field, msg)
				}
			}
			if !strings.Contains(err.Error(), "p.yaml:") {
				t.Errorf("message lacks file:line: %v", err)
			}
		})
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestLoadMalformedYAML(t *testing.T) {
	for _, in := range []string{"", ":\n  - [", "- a\n- b\n", "name: [x"} {
		if _, err := Load([]byte(in), "bad.yaml"); err == nil {
			t.Errorf("Load(%q) succeeded", in)
		}
	}
}

// TestDeployPolicies loads every shipped policy: they must all validate
// and form one Set.
func TestDeployPolicies(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "policies")
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 {
		t.Fatalf("found %d policies in %s, want at least 5", len(paths), dir)
	}
	var files []File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Name: filepath.Base(p), Data: data})
	}
	set, err := LoadSet(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range []event.Segment{event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale} {
		if set.Select(seg, "", "") == nil {
			t.Errorf("no policy for segment %s", seg)
		}
	}
	tb := set.Get("timelybill")
	if tb == nil {
		t.Fatal("timelybill policy missing")
	}
	var got []string
	for _, st := range tb.Stages {
		a := st.Actions[0]
		got = append(got, strings.TrimSpace(itoa(st.DaysPastDue)+" "+string(a.Type)+" "+string(a.Channel)))
	}
	want := []string{"4 NOTIFY email", "11 NOTIFY sms", "18 NOTIFY letter", "24 SUSPEND", "30 AGENT_TASK"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("timelybill stages %v, want %v", got, want)
	}
	if !tb.Arrangements.RestoreOnPlan {
		t.Fatal("timelybill: an installment plan must restore service")
	}
}
