package core

import (
	"os"
	"testing"

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
	if v1, err := os.ReadFile("../ledger/testdata/account_v1.bin"); err == nil { // a version-1 ledger part
		b := varint.AppendString([]byte{stateVersionV2}, "A")
		b = varint.AppendBytes(b, v1)
		f.Add(varint.AppendBytes(varint.AppendBytes(b, nil), nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			return // a decoded but inconsistent ledger (a part naming a missing item) is refused on encode
		}
		var s2 State
		if err := s2.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
