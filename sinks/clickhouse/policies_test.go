package chsink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/schemas"
)

// TestPolicyRecordRows: an ar.policies record lands one policies row per
// version it carries (the earlier ones too); an undecodable one is the
// record's fault (dead-lettered), not a retry.
func TestPolicyRecordRows(t *testing.T) {
	_, topics, dec := testDecoder(t)
	at := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	r := policy.Record{Name: "p", Version: "bbbbbbbbbbbb", EffectiveFrom: at, AppliedAt: at.Add(-time.Hour), YAML: []byte("name: p\n"),
		Previous: []policy.Record{{Name: "p", Version: "aaaaaaaaaaaa", EffectiveFrom: at.Add(-time.Hour), AppliedAt: at.Add(-2 * time.Hour), YAML: []byte("name: p\n")}}}
	v, err := schemas.EncodePolicy(r)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := dec.Rows(context.Background(), &kgo.Record{Topic: topics.Policies, Value: v}, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Table != analytics.PoliciesTable || rows[0].Values[1] != "aaaaaaaaaaaa" || rows[1].Values[1] != "bbbbbbbbbbbb" {
		t.Fatalf("rows: %+v", rows)
	}
	if _, err := dec.Rows(context.Background(), &kgo.Record{Topic: topics.Policies, Value: []byte("junk")}, at); err == nil || schemas.Transient(err) {
		t.Errorf("junk policy record: %v", err)
	}
}
