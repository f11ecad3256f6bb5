package dunning

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the goldens use real zones whatever the host has

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// harness runs one account through a Sim and writes every evaluation as
// text for a golden file. Debit notes are applied back to the ledger, as
// the processor does.
type harness struct {
	t      *testing.T
	sim    *Sim
	ledger *testLedger
	loc    *time.Location
	out    strings.Builder
	seq    int
	// roundTrip encodes and decodes the state after every step, as the
	// processor does through Redis.
	roundTrip bool
}

func loadPolicy(t *testing.T, path string) *policy.Policy {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(data, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func deployPolicy(t *testing.T, file string) *policy.Policy {
	return loadPolicy(t, filepath.Join("..", "..", "deploy", "policies", file))
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newHarness(t *testing.T, pol *policy.Policy, loc *time.Location, start string, master Input) *harness {
	h := &harness{t: t, ledger: newTestLedger(master), loc: loc, roundTrip: true}
	h.sim = &Sim{Policy: pol, Loc: loc, Facts: h.ledger, Now: h.at(start), Observe: h.observe}
	fmt.Fprintf(&h.out, "# policy %s version %s, account %s (%s), zone %s\n",
		pol.Name, pol.Version, master.Account, master.Segment, loc)
	return h
}

func (h *harness) at(s string) time.Time {
	h.t.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, h.loc)
	if err != nil {
		h.t.Fatal(err)
	}
	return t
}

func date(s string) event.Date {
	d, err := event.ParseDate(s)
	if err != nil {
		panic(err) // test literal
	}
	return d
}

// ev processes one event at local time when.
func (h *harness) ev(when string, body event.Body) {
	h.t.Helper()
	h.seq++
	ev := event.Event{ID: fmt.Sprintf("ev-%03d", h.seq), Time: h.at(when), Source: "test", Account: h.ledger.in.Account, Body: body}
	if err := h.sim.Event(ev); err != nil {
		h.t.Fatal(err)
	}
}

// until lets the clock run to local time when.
func (h *harness) until(when string) { h.sim.RunUntil(h.at(when)) }

func (h *harness) observe(s Step) {
	if h.roundTrip {
		b, err := s.State.MarshalBinary()
		if err != nil {
			h.t.Fatal(err)
		}
		// appended after other bytes (as the account state appends its
		// parts), the encoding is the same
		prefixed, err := s.State.AppendBinary([]byte("ledger part"))
		if err != nil || !bytes.Equal(prefixed, append([]byte("ledger part"), b...)) {
			h.t.Fatalf("AppendBinary after 11 bytes gave %x (%v); MarshalBinary %x", prefixed, err, b)
		}
		var st State
		if err := st.UnmarshalBinary(b); err != nil {
			h.t.Fatal(err)
		}
		h.sim.State = st
	}
	for _, dn := range s.Decision.DebitNotes {
		if _, err := h.ledger.Apply(event.Event{ID: dn.AdjustmentID, Account: h.ledger.in.Account, Body: &dn}); err != nil {
			h.t.Fatal(err)
		}
	}
	h.out.WriteString(formatStep(s, h.loc))
}

func (h *harness) check(name string) {
	h.t.Helper()
	checkGolden(h.t, name, h.out.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
		}
	}
}

const stamp = "2006-01-02 15:04 Mon MST"

func formatStep(s Step, loc *time.Location) string {
	var b strings.Builder
	cause := "timer"
	if s.Event != nil {
		cause = describe(*s.Event)
	}
	fmt.Fprintf(&b, "\n%s  %s\n", s.Now.In(loc).Format(stamp), cause)
	for _, a := range s.Decision.Actions {
		fmt.Fprintf(&b, "  ACTION %s", a.Type)
		if a.Channel != "" {
			fmt.Fprintf(&b, " %s/%s", a.Channel, a.Template)
		}
		if a.Queue != "" {
			fmt.Fprintf(&b, " queue=%s prio=%d", a.Queue, a.Priority)
		}
		if a.Amount != 0 {
			fmt.Fprintf(&b, " amount=%s", a.Amount)
		}
		fmt.Fprintf(&b, " stage=%s dpd=%d overdue=%s %s oldest=%s invoices=%v id=%s\n",
			a.Stage, a.DaysPastDue, a.Currency, a.OverdueAmount, dateStr(a.OldestDueDate), a.Invoices, a.ActionID[:12])
		fmt.Fprintf(&b, "    reason: %s\n", a.Reason)
	}
	for _, g := range s.Decision.GL {
		fmt.Fprintf(&b, "  GL %s %s %s debit=%s credit=%s id=%s\n", g.Kind, g.Currency, g.Amount, g.DebitAccount, g.CreditAccount, g.EntryID[:15])
	}
	for _, dn := range s.Decision.DebitNotes {
		fmt.Fprintf(&b, "  DEBIT_NOTE %s invoice=%s %s %s\n", dn.AdjustmentID[:16], dn.InvoiceID, dn.Currency, dn.Amount)
	}
	for _, o := range s.Decision.Outcomes {
		what := "BROKEN"
		if o.Kept {
			what = "KEPT"
		}
		fmt.Fprintf(&b, "  OUTCOME %s %s %s installment=%d complete=%v\n", o.ArrangementID, o.Type, what, o.Installment, o.Complete)
	}
	st := s.State
	wake := "-"
	if !s.Decision.NextWake.IsZero() {
		wake = s.Decision.NextWake.In(loc).Format(stamp)
	}
	fmt.Fprintf(&b, "  state: episode=%d in=%v stage=%q service=%s deferred=%d contacts=%d wake=%s\n",
		st.Episode, st.InEpisode, st.Stage, st.Service, len(st.Deferred), len(st.Contacts), wake)
	fmt.Fprintf(&b, "  why: %s\n", s.Decision.Explanation)
	return b.String()
}

func dateStr(d event.Date) string {
	if d == 0 {
		return "-"
	}
	return d.String()
}

func describe(ev event.Event) string {
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		return fmt.Sprintf("InvoiceIssued %s %s %s due %s", b.InvoiceID, b.Currency, b.Amount, b.DueDate)
	case *event.PaymentReceived:
		return fmt.Sprintf("PaymentReceived %s %s %s", b.PaymentID, b.Currency, b.Amount)
	case *event.PaymentReversed:
		return fmt.Sprintf("PaymentReversed %s (%s)", b.PaymentID, b.Reason)
	case *event.DisputeOpened:
		return fmt.Sprintf("DisputeOpened %s on %s %s %s", b.DisputeID, b.InvoiceID, b.Currency, b.Amount)
	case *event.DisputeResolved:
		return fmt.Sprintf("DisputeResolved %s %s credit %s", b.DisputeID, b.Outcome, b.CreditAmount)
	case *event.ArrangementCreated:
		parts := make([]string, len(b.Installments))
		for i, in := range b.Installments {
			parts[i] = fmt.Sprintf("%s %s", in.DueDate, in.Amount)
		}
		return fmt.Sprintf("ArrangementCreated %s %s %s [%s]", b.ArrangementID, b.Type, b.Currency, strings.Join(parts, ", "))
	case *event.ArrangementCancelled:
		return fmt.Sprintf("ArrangementCancelled %s", b.ArrangementID)
	case *event.Hold:
		return fmt.Sprintf("Hold %s until %s", b.HoldID, b.Until.Format(time.RFC3339))
	case *event.Release:
		return fmt.Sprintf("Release %s", b.HoldID)
	}
	return ev.Body.Kind().String()
}
