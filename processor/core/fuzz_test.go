package core

import (
	"os"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// FuzzStateUnmarshal: no input makes State.UnmarshalBinary panic or
// allocate beyond its length, and whatever decodes re-encodes to a state
// that decodes again.
func FuzzStateUnmarshal(f *testing.F) {
	env := testEnv(f)
	st := &State{}
	for _, e := range benchEvents(1, 4) {
		_, _ = Apply(st, e, e.Time, env)
	}
	f.Add(mustMarshal(f, st))
	f.Add(mustMarshal(f, &State{Account: "A"}))
	// finance_test.go: a placement, a legal case, an accrual, provisions
	f.Add(financeSeed(f))
	if v1, err := os.ReadFile("../ledger/testdata/account_v1.bin"); err == nil { // a version-1 ledger part
		b := varint.AppendString([]byte{stateVersionV2}, "A")
		b = varint.AppendBytes(b, v1)
		f.Add(varint.AppendBytes(varint.AppendBytes(b, nil), nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if s.UnmarshalBinary(data) != nil {
			return
		}
		// Whatever decodes must not panic when used: status, a payment, a
		// timer, and the encoding of the result decodes again.
		now := day0.AddDate(0, 2, 0)
		_ = s.Status(now)
		_, _ = Apply(&s, ev("fz", now, &event.PaymentReceived{PaymentID: "FZ", Currency: "EUR", Amount: 100}), now, env)
		_, _ = Wake(&s, "A1", now.Add(time.Hour), env)
		if b, err := s.MarshalBinary(); err == nil {
			var back State
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
		}
	})
}
