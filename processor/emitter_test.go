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
