package dunning

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestEncodingBytes pins the bytes of a state with every list of the
// account-level encoding filled (actioned stages, installments and
// payments, holds, deferred contacts, contacts, write-offs and recoveries,
// arms) and of a finance state with every list (accruals, provisions,
// agency payments): a refactor of the writers must not change a byte
// (stored states are read back by every later build). The group state is
// left out (group_codec.go, still moving). -update rewrites
// testdata/encoding.golden.
func TestEncodingBytes(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	st := State{Episode: 3, InEpisode: true, Stage: "final", StageEntered: at, Actioned: []string{"reminder", "final"}, Service: 1,
		Arrangement: &Arrangement{ID: "A1", Type: event.InstallmentPlan, Currency: "EUR", Created: at.Add(-time.Hour),
			Installments: []event.Installment{{DueDate: event.DateOf(at) + 7, Amount: 5000}, {DueDate: event.DateOf(at) + 37, Amount: 7000}},
			Paid:         1234, Payments: []Payment{{ID: "P1", Amount: 1234}}, Met: 1},
		Holds: []Hold{{ID: "H1", Until: at.Add(48 * time.Hour)}}, DisputeGraceUntil: at.Add(24 * time.Hour), Resume: "reminder",
		ShiftDays: -4, PausedSince: at.Add(-2 * time.Hour),
		Deferred:   []Deferred{{Stage: "final", Index: 1, Channel: event.SMS, At: at.Add(3 * time.Hour)}},
		Contacts:   []time.Time{at.Add(-72 * time.Hour), at},
		NextWake:   at.Add(5 * time.Hour),
		WrittenOff: []WrittenOff{{"I1", "EUR", 10000}, {"I2", "USD", 2500}},
		Recoveries: []Recovery{{PaymentID: "P9", WrittenOff: WrittenOff{"I0", "EUR", 300}}},
		Arms:       []ArmAssignment{{Experiment: "x1", Challenger: true}}, Experiment: "x1",
	}
	f := &Finance{
		Placement: &Placement{Agency: "north", Currency: "EUR", Placed: 90000, Since: at, Recovered: 4000, Commission: 720,
			Payments: []AgencyPayment{{"P2", 4000, 720}, {"P3", 0, 0}}},
		Legal: &LegalCase{Referred: at, CaseID: "C1", Reference: "court-7", Currency: "EUR", Awarded: 50000},
		Interest: Interest{Through: event.DateOf(at), Posted: event.DateOf(at) - 28, DueFor: event.DateOf(at),
			Accruals: []Accrual{{"EUR", 123456, 7890, "I1"}, {"GBP", 0, 42, "I7"}}},
		Provisions: []Provision{{"EUR", 5556}, {"USD", 100}}, ProvisionedFor: event.DateOf(at) - 1,
	}
	sb, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fb, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got := "state " + hex.EncodeToString(sb) + "\nfinance " + hex.EncodeToString(fb) + "\n"
	path := filepath.Join("testdata", "encoding.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, want)
	}
	var back State
	if err := back.UnmarshalBinary(sb); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if rb, _ := back.MarshalBinary(); string(rb) != string(sb) {
		t.Error("the state does not re-encode to the same bytes")
	}
}
