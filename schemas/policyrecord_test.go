package schemas

import (
	"reflect"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/policy"
)

// TestPolicyRecordRoundTrip: a policy record with earlier versions decodes
// to what was encoded, single-object framed with policy_record.avsc's
// specification fingerprint; another schema's record is refused.
func TestPolicyRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	r := policy.Record{Name: "p", Version: "0123456789ab", EffectiveFrom: at, AppliedAt: at.Add(-time.Hour), YAML: []byte("name: p\n"),
		Previous: []policy.Record{{Name: "p", Version: "ba9876543210", EffectiveFrom: at.Add(-48 * time.Hour), AppliedAt: at.Add(-50 * time.Hour), YAML: []byte("name: p # v1\n")}}}
	b, err := EncodePolicy(r)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := avscFS.ReadFile("policy_record.avsc")
	fp, err := SpecFingerprint(string(text))
	if err != nil {
		t.Fatal(err)
	}
	// The compacted topic keeps records for good and DecodePolicy reads
	// only this fingerprint: a change needs a reader of the previous text
	// too (docs/schemas.md), which this pin makes someone write.
	if fp != 0x80c1d6e08ea45374 {
		t.Errorf("policy_record.avsc changed (fingerprint %#016x): keep DecodePolicy reading the records written before", fp)
	}
	if b[0] != 0xC3 || b[1] != 0x01 || b[2] != byte(fp) {
		t.Errorf("framing % x, fingerprint %#x", b[:10], fp)
	}
	got, err := DecodePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	if _, err := DecodePolicy(append([]byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, b[10:]...)); err == nil {
		t.Error("a record of another schema decoded")
	}
}
