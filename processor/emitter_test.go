package processor

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
)

// TestAcceptedCopy: the accepted copy carries the value unchanged and the
// source coordinates as headers, also for a topic name longer than the
// record's inline buffer; each header's value is its own (appending to
// one never overwrites the next).
func TestAcceptedCopy(t *testing.T) {
	for _, src := range []string{"ar.events", strings.Repeat("t", 100)} {
		in := &kgo.Record{Topic: src, Partition: 11, Offset: 1234567890123, Key: []byte("acct"), Value: []byte("v")}
		out := acceptedCopy("acc", 3, in)
		if out.Topic != "acc" || out.Partition != 3 || string(out.Key) != "acct" || string(out.Value) != "v" {
			t.Fatalf("record %+v", out)
		}
		want := map[string]string{kafkax.HeaderSrcTopic: src, kafkax.HeaderSrcPartition: "11", kafkax.HeaderSrcOffset: "1234567890123"}
		if len(out.Headers) != len(want) {
			t.Fatalf("headers %v", out.Headers)
		}
		for _, h := range out.Headers {
			if string(h.Value) != want[h.Key] {
				t.Errorf("topic %d bytes: header %s = %q, want %q", len(src), h.Key, h.Value, want[h.Key])
			}
		}
		_ = append(out.Headers[0].Value, 'x')
		if string(out.Headers[1].Value) != "11" {
			t.Errorf("appending to the topic header overwrote the partition header: %q", out.Headers[1].Value)
		}
	}
}

// TestKeyedRecord: the key is copied, whatever its length (an id longer
// than the inline room allocates its own).
func TestKeyedRecord(t *testing.T) {
	for _, key := range []string{"ACC-0000042", strings.Repeat("k", 40)} {
		r := keyedRecord("status", 7, key, []byte("v"))
		if r.Topic != "status" || r.Partition != 7 || string(r.Key) != key || string(r.Value) != "v" {
			t.Errorf("key of %d bytes: record %+v", len(key), r)
		}
	}
}

// TestRecordsReused: within a batch every record handed out is its own;
// taken back, a record holds no value; the next batch gets the same
// records back, each set afresh
// (nothing franz-go wrote into it, such as the offset, timestamp or
// producer id, and no header of an accepted copy, survives).
func TestRecordsReused(t *testing.T) {
	var rs records
	in := &kgo.Record{Topic: "ar.events", Partition: 2, Offset: 99, Key: []byte("A"), Value: []byte("in")}
	batch := func() (keyed, accepted []*kgo.Record) {
		for i := range 3 {
			keyed = append(keyed, rs.keyedRecord("status", int32(i), "ACC-1", []byte{byte(i)}))
			accepted = append(accepted, rs.acceptedCopy("acc", int32(i), in))
		}
		return keyed, accepted
	}
	k1, a1 := batch()
	seen := map[*kgo.Record]bool{}
	for _, r := range append(append([]*kgo.Record(nil), k1...), a1...) {
		if seen[r] {
			t.Fatalf("one record handed out twice in a batch: %+v", r)
		}
		seen[r] = true
		r.Offset, r.ProducerID, r.Timestamp = 7, 8, r.Timestamp.AddDate(1, 0, 0) // as franz-go sets them
	}
	rs.reuse()
	for i := range 3 {
		if k1[i].Value != nil || a1[i].Value != nil || a1[i].Headers != nil {
			t.Fatalf("record %d taken back still holds its value or headers", i)
		}
	}
	k2, a2 := batch()
	for i := range 3 {
		if k2[i] != k1[i] || a2[i] != a1[i] {
			t.Fatalf("record %d not reused", i)
		}
		if k2[i].Offset != 0 || k2[i].ProducerID != 0 || !k2[i].Timestamp.IsZero() || k2[i].Partition != int32(i) || k2[i].Value[0] != byte(i) {
			t.Errorf("reused keyed record %d kept its last use: %+v", i, k2[i])
		}
		if a2[i].Offset != 0 || len(a2[i].Headers) != 3 || string(a2[i].Headers[2].Value) != "99" {
			t.Errorf("reused accepted record %d: %+v", i, a2[i])
		}
	}
	if k := rs.keyedRecord("status", 0, "ACC-2", nil); seen[k] {
		t.Error("a fourth record in the batch is one already handed out")
	}
	rs.reuse() // a batch of 4 keyed records and 3 accepted ones
	rs.keyedRecord("status", 0, "ACC-3", nil)
	rs.reuse() // a batch of 1 and none: the rest go
	if len(rs.keyed) != 1 || len(rs.accepted) != 0 || cap(rs.keyed) < 4 {
		t.Errorf("after a smaller batch %d keyed and %d accepted records kept, want 1 and 0", len(rs.keyed), len(rs.accepted))
	}
	if full := rs.keyed[:cap(rs.keyed)]; full[1] != nil {
		t.Error("a dropped record is still referenced past the kept ones")
	}
}
