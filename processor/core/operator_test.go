package core

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// The operator ladder: a reminder by email at 5 days past due (2026-03-20
// for I1 due 03-15), a collector's call at 20 (04-04); quiet hours
// 21:00-08:00 UTC; VIP routes to manual review.
const operatorLadder = `
name: op
selection: {segments: [corporate]}
min_overdue: {EUR: "5.00"}
contact:
  quiet_hours: "21:00-08:00"
  cap: {max: 3, days: 7}
stages:
  - {name: reminder, days_past_due: 5, actions: [{type: notify, channel: email, template: r}]}
  - {name: call, days_past_due: 20, actions: [{type: agent_task, queue: collectors, priority: 2}]}
exemptions: {flags: [VIP], queue: manual_review}
gl: {receivables: "1200", fee_income: "4100", bad_debt: "6800"}
`

func (tl *timeline) actionLines() []string {
	var out []string
	for _, a := range tl.actions {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", a.Time.Format("01-02 15:04"), a.Type, a.Stage, a.Queue, a.Amount))
	}
	tl.actions = nil
	return out
}

// TestManualWriteOff: a supervisor's write-off goes the write-off path: a
// WRITE_OFF action and its GL entry (bad debt 6800 / receivables 1200),
// the invoice closed by that much, the account written off and no longer
// dunned. One larger than the open balance, or in a currency with nothing
// open, is refused and changes nothing; amount zero takes the whole open
// balance.
func TestManualWriteOff(t *testing.T) {
	for _, reload := range []bool{false, true} {
		t.Run(fmt.Sprintf("reload=%v", reload), func(t *testing.T) {
			tl := newTimeline(t, operatorLadder)
			tl.reload = reload
			before := mustMarshal(t, tl.st)
			tl.rejected("03-18", &event.WriteOffRequested{WriteOffID: "W0", Currency: "EUR", Amount: event.MustAmount("1000.01")}, ReasonWriteOffExceedsBalance)
			tl.rejected("03-18", &event.WriteOffRequested{WriteOffID: "W0", Currency: "USD"}, ReasonWriteOffExceedsBalance)
			if !bytes.Equal(mustMarshal(t, tl.st), before) {
				t.Fatal("a refused write-off changed the state")
			}
			tl.applyOn("03-18", &event.WriteOffRequested{WriteOffID: "W1", Currency: "EUR", Amount: event.MustAmount("300"), Reason: "goodwill"})
			tl.expect("actions", tl.actionLines(), []string{"03-18 09:00 WRITE_OFF writeoff:W1  300.0000"})
			tl.expect("GL", tl.entries(), []string{"03-18 WRITE_OFF 300.0000 6800/1200"})
			tl.status(date("03-18"), "WRITTEN_OFF", event.MustAmount("700"))
			tl.wakeTo(date("04-30"))
			tl.expect("actions after the write-off", tl.actionLines(), nil)

			whole := newTimeline(t, operatorLadder)
			whole.reload = reload
			whole.applyOn("03-25", &event.WriteOffRequested{WriteOffID: "W2", Currency: "EUR"})
			got := whole.actionLines()
			whole.expect("actions", got[len(got)-1:], []string{"03-25 09:00 WRITE_OFF writeoff:W2  1000.0000"})
			whole.expect("GL", whole.entries(), []string{"03-25 WRITE_OFF 1000.0000 6800/1200"})
			whole.status(date("03-25"), "WRITTEN_OFF", 0)
		})
	}
}

// TestCallbackTask: a call-back asked for 22:30 (quiet hours) becomes one
// AGENT_TASK at 08:00 the next morning, in the policy's agent queue (the
// account's stage has none yet), with the same id whether or not the state
// went through Redis between the steps; a repeat of the event is a
// duplicate, and the task is never emitted again.
func TestCallbackTask(t *testing.T) {
	var ids []string
	for _, reload := range []bool{false, true} {
		tl := newTimeline(t, operatorLadder)
		tl.reload = reload
		cb := &event.CallbackScheduled{CallbackID: "CB1", At: date("03-18").Add(13*time.Hour + 30*time.Minute), Note: "evening"}
		tl.applyOn("03-18", cb)
		if w := tl.st.WakeAt(); !w.Equal(date("03-19").Add(-time.Hour)) {
			t.Fatalf("wake %s, want 03-19 08:00", w)
		}
		out, err := Apply(tl.st, ev(fmt.Sprintf("f%d", tl.n), date("03-18").Add(time.Hour), cb), date("03-18").Add(time.Hour), tl.env)
		if err != nil || !out.Duplicate {
			t.Fatalf("repeat: %+v %v", out, err)
		}
		tl.wakeTo(date("03-19"))
		var tasks []event.DunningAction
		for _, a := range tl.actions {
			if a.Stage == "callback:CB1" {
				tasks = append(tasks, a)
			}
		}
		tl.expect("actions", tl.actionLines(), []string{"03-19 08:00 AGENT_TASK callback:CB1 collectors 0.0000"})
		if len(tasks) != 1 || tasks[0].Priority != 2 || !strings.Contains(tasks[0].Reason, "requested by test") {
			t.Fatalf("call-back task %+v", tasks)
		}
		ids = append(ids, tasks[0].ActionID)
		tl.wakeTo(date("04-10"))
		for _, line := range tl.actionLines() {
			if strings.Contains(line, "callback:") {
				t.Errorf("call-back emitted again: %s", line)
			}
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("task ids differ with a state round trip: %v", ids)
	}
}

// TestOperatorThroughCore: a cease-contact request withholds the reminder
// (explained), a VIP exemption routes the call stage to manual review, the
// explanation lists what collectors recorded; a note, and the events of
// other agents (erasure) before their handling lands, are accepted and
// change no decision.
func TestOperatorThroughCore(t *testing.T) {
	tl := newTimeline(t, operatorLadder)
	tl.reload = true
	tl.applyOn("03-16", &event.CeaseContact{Active: true, Reason: "customer request"})
	tl.wakeTo(date("03-21"))
	tl.expect("actions while ceased", tl.actionLines(), nil)
	if tl.st.Dunning.Stage != "reminder" {
		t.Fatalf("stage %q: the reminder stage was not entered", tl.st.Dunning.Stage)
	}
	tl.applyOn("03-25", &event.CeaseContact{Active: false})
	tl.applyOn("03-26", &event.ContactPreferencesChanged{Consents: []event.Channel{event.Email, event.SMS}, Preferred: event.SMS})
	tl.applyOn("03-27", &event.CallLogged{CallID: "C1", Outcome: event.CallRefused})
	tl.applyOn("03-30", &event.ExemptionSet{Exemption: "VIP", Until: date("04-30")})
	tl.applyOn("03-31", &event.NoteAdded{NoteID: "N1", Text: "asked for a statement"})
	out := tl.applyOn("03-31", &event.AccountErased{Reason: "test"})
	if out.Duplicate {
		t.Fatal("AccountErased dropped as a duplicate")
	}
	tl.wakeTo(date("04-05"))
	tl.expect("actions", tl.actionLines(), []string{"04-04 00:00 MANUAL_REVIEW call manual_review 0.0000"})
	x := Explain(tl.st, date("04-05"), tl.env)
	want := []string{"exemption VIP (operator) until 2026-04-30T09:00:00Z", "consents (operator): email,sms",
		"preferred channel: sms", "last call REFUSED at 2026-03-27T09:00:00Z (1 calls logged)"}
	if !reflect.DeepEqual(x.Operator, want) {
		t.Errorf("explain operator:\n got %q\nwant %q", x.Operator, want)
	}
	if s := x.String(); !strings.Contains(s, "operator: preferred channel: sms") {
		t.Errorf("explain text:\n%s", s)
	}
	tl.rejected("04-06", &event.ExemptionCleared{Exemption: "GOVERNMENT"}, ReasonUnknownExemption)
}
