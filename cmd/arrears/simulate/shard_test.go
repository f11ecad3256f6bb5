package simulate

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// TestShardsAgree replays a generated book split into 1, 2, 5 (uneven
// over 12 partitions) and 12 shards per replay, with a candidate that
// differs (no SMS stage), every action kept and the historical response,
// in full and sampled: every result equals the unsharded one.
func TestShardsAgree(t *testing.T) {
	o := workload.Options{Seed: 3, Accounts: 1500, Months: 3, Partitions: 12, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := workloadHistory{o}
	active := testkit.DeployEnv(t, "../../..")
	candidate, _, err := Candidate(active, noSMSStage(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, sampled := range []int{0, 400} {
		opts := Options{From: o.Start.AddDate(0, 1, 0), Until: o.Start.AddDate(0, o.Months, 1), Sample: sampled,
			Cost: Defaults().ContactCost, KeepActions: true, Historical: true, CureDays: 30}
		var want *Result
		for _, shards := range []int{1, 2, 5, 12} {
			opts.Shards = shards
			got, err := Run(context.Background(), h, nil, active, candidate, opts)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = got
				if got.Active.Contacts == 0 || got.Active.Contacts == got.Candidate.Contacts || len(got.ActiveActions) == 0 ||
					got.Active.Deferrals == 0 || got.Response == nil || got.Response.Active.Cures == 0 {
					t.Fatalf("sample %d: a book that tests nothing: %+v", sampled, got.Active)
				}
				continue
			}
			for _, part := range []struct {
				name      string
				got, want any
			}{{"active", got.Active, want.Active}, {"candidate", got.Candidate, want.Candidate},
				{"active actions", got.ActiveActions, want.ActiveActions}, {"candidate actions", got.CandidateActions, want.CandidateActions},
				{"response", got.Response, want.Response}, {"result", got, want}} {
				if !reflect.DeepEqual(part.got, part.want) {
					t.Errorf("sample %d, %d shards: %s differs from one shard's:\n%+v\nwant\n%+v", sampled, shards, part.name, part.got, part.want)
					break
				}
			}
		}
		t.Logf("sample %d: %d accounts, %d records, %d and %d actions, %d and %d contacts, %d deferrals", sampled,
			want.Accounts, want.Records, len(want.ActiveActions), len(want.CandidateActions), want.Active.Contacts,
			want.Candidate.Contacts, want.Active.Deferrals)
	}
}
