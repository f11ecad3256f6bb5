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

// TestProgress: Run reports its work as records read, then replayed, each
// counted once, never going back, ending at twice the records.
func TestProgress(t *testing.T) {
	o := workload.Options{Seed: 4, Accounts: 300, Months: 2, Partitions: 3, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var h memHistory
	for g := workload.New(o); ; {
		ev, ok := g.Next()
		if !ok {
			break
		}
		h = append(h, ev)
	}
	until := o.Start.AddDate(0, o.Months, 0)
	var calls [][2]int
	_, err := Run(context.Background(), h, nil, testkit.DeployEnv(t, "../../.."), testkit.DeployEnv(t, "../../.."),
		Options{From: o.Start, Until: until, Shards: 3, Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := h.Count(context.Background(), until)
	if len(calls) < 3 || calls[len(calls)-1] != [2]int{2 * n, 2 * n} {
		t.Fatalf("%d calls, the last %v; want it at %d of %d", len(calls), calls[len(calls)-1:], 2*n, 2*n)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][1] != 2*n {
			t.Fatalf("call %d: %v after %v", i, calls[i], calls[i-1])
		}
	}
	if mid := calls[len(calls)/2][0]; mid <= 0 || mid >= 2*n {
		t.Errorf("the middle call is at %d of %d", mid, 2*n)
	}
}
