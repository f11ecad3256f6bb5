package replay_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/internal/varint"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/replay"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// TestAppendBinaryAsParts encodes every state of a generated book (3
// months: items, dunning stages, arrangements, risk) with AppendBinary
// into one reused buffer that already holds bytes, as the processor's
// status step does, and checks each encoding against the format built from
// the parts' own MarshalBinary: a version byte and each part
// length-prefixed (the encoding state v3 has always had).
func TestAppendBinaryAsParts(t *testing.T) {
	o := workload.Options{Seed: 11, Accounts: 1500, Months: 3, Partitions: 4, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	env := testkit.DeployEnv(t, "../..")
	b := replay.New(env, replay.Options{Partitions: o.Partitions,
		PartitionOf: func(a string) int32 { return kafkax.PartitionFor([]byte(a), int32(o.Partitions)) }})
	for g := workload.New(o); ; {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if err := b.Step(ev); err != nil {
			t.Fatal(err)
		}
	}
	prefix := []byte("earlier bytes")
	buf := append([]byte(nil), prefix...)
	n, long, staged := 0, 0, 0
	b.Accounts(func(id string, st *core.State) {
		var err error
		buf, err = st.AppendBinary(buf[:len(prefix)])
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		want := reference(t, st)
		if got := buf[len(prefix):]; !bytes.Equal(got, want) {
			t.Fatalf("%s: AppendBinary gave %x, the parts give %x", id, got, want)
		}
		if !bytes.Equal(buf[:len(prefix)], prefix) {
			t.Fatalf("%s: AppendBinary changed the bytes before it", id)
		}
		n++
		if len(want) >= 128 {
			long++ // a ledger part of 128 bytes or more takes a two-byte length
		}
		if st.Dunning.Stage != "" {
			staged++
		}
	})
	if n < 1000 || long == 0 || staged == 0 {
		t.Fatalf("a book that tests little: %d states, %d of 128 bytes or more, %d in a dunning stage", n, long, staged)
	}
}

// reference is the state encoding built from its parts.
func reference(t *testing.T, st *core.State) []byte {
	t.Helper()
	parts := []func() ([]byte, error){st.Ledger.MarshalBinary, st.Dunning.MarshalBinary, st.Risk.MarshalBinary}
	if st.Dunning.Finance != nil {
		parts = append(parts, st.Dunning.Finance.MarshalBinary)
	}
	out := []byte{3}
	for _, m := range parts {
		p, err := m()
		if err != nil {
			t.Fatal(err)
		}
		out = varint.AppendBytes(out, p)
	}
	return out
}
