package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// fakeState serves one account's state (built by the core from events)
// and says every offset is applied.
type fakeState struct{ st *core.State }

func (f fakeState) Account(_ context.Context, id string) (Loaded, error) {
	if id != f.st.Account {
		return Loaded{}, ErrUnknownAccount
	}
	return Loaded{State: *f.st, Partition: 0, Applied: 1 << 40}, nil
}

func (fakeState) Applied(context.Context, int32) (int64, error) { return 1 << 40, nil }

// fakePublisher records what it is given.
type fakePublisher struct {
	mu  sync.Mutex
	evs []event.Event
}

func (f *fakePublisher) Publish(_ context.Context, ev event.Event) (int32, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evs = append(f.evs, ev)
	return 0, int64(len(f.evs)), nil
}

// TestAPIKeysOnRedisCluster: the API's own keys (idempotency, approvals
// with their compare-and-set and pending index in one hash slot) work on
// a Redis Cluster (make redis-cluster-up): a retried write publishes once,
// a collector's plan is listed, approved once and published once.
func TestAPIKeysOnRedisCluster(t *testing.T) {
	rdb, prefix := testkit.RedisClusterClient(t)
	env := viewEnv(t)
	now := time.Now().UTC()
	due := event.DateOf(now) - 30
	st := book(t, env,
		event.Event{ID: "up", Time: due.Time().Add(-20 * 24 * time.Hour), Body: &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR"}},
		event.Event{ID: "inv", Time: due.Time().Add(-19 * 24 * time.Hour), Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR",
			Amount: event.MustAmount("100"), IssueDate: due - 19, DueDate: due}})
	pub := &fakePublisher{}
	var lines []string
	toks := map[string]string{}
	for _, r := range []string{"collector", "supervisor"} {
		role, _ := ParseRole(r)
		tok, e, _ := NewToken("c-"+r, role, nil)
		toks[r], lines = tok, append(lines, e.Line())
	}
	tf := filepath.Join(t.TempDir(), "tokens.yaml")
	_ = os.WriteFile(tf, []byte(strings.Join(lines, "\n")), 0o600)
	cfg := Defaults()
	cfg.TokensFile, cfg.KeyPrefix = tf, prefix+":api"
	s, err := New(cfg, Deps{Publisher: pub, State: fakeState{st}, Redis: rdb, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	do := func(role, method, path, key, body string) (int, writeResult) {
		r, _ := http.NewRequest(method, ts.URL+Prefix+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+toks[role])
		r.Header.Set("Content-Type", "application/json")
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		resp, err := ts.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var w writeResult
		_ = json.NewDecoder(resp.Body).Decode(&w)
		return resp.StatusCode, w
	}
	day := func(d int) string { return (event.DateOf(now) + event.Date(d)).String() }
	note := `{"text":"called"}`
	c1, w1 := do("collector", "POST", "/accounts/ACC-1/notes", "n1", note)
	c2, w2 := do("collector", "POST", "/accounts/ACC-1/notes", "n1", note)
	if c1 != 202 || c2 != 202 || w1.EventID == "" || w2.EventID != w1.EventID || len(pub.evs) != 1 {
		t.Fatalf("retried note: %d %d, %s %s, %d events", c1, c2, w1.EventID, w2.EventID, len(pub.evs))
	}
	if c, _ := do("collector", "POST", "/accounts/ACC-1/notes", "n1", `{"text":"other"}`); c != http.StatusUnprocessableEntity {
		t.Errorf("same key, other body: %d", c)
	}
	plan := `{"currency":"EUR","installments":[{"date":"` + day(7) + `","amount":"50"},{"date":"` + day(37) + `","amount":"50"}]}`
	c, p := do("collector", "POST", "/accounts/ACC-1/plans", "p1", plan)
	if c != 202 || p.ApprovalID == "" || len(pub.evs) != 1 {
		t.Fatalf("collector's plan: %d %+v", c, p)
	}
	r, _ := http.NewRequest("GET", ts.URL+Prefix+"/approvals", nil)
	r.Header.Set("Authorization", "Bearer "+toks["supervisor"])
	resp, err := ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Items []Approval }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Items) != 1 || list.Items[0].ID != p.ApprovalID {
		t.Fatalf("pending approvals %+v", list.Items)
	}
	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = do("supervisor", "POST", "/approvals/"+p.ApprovalID+"/approve", "a"+itoa(i), "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 202 {
			ok++
		} else if c != http.StatusConflict {
			t.Errorf("racing approvals answered %v", codes)
		}
	}
	if ok != 1 || len(pub.evs) != 2 {
		t.Fatalf("racing approvals: %v, %d events (want one approval, 2 events)", codes, len(pub.evs))
	}
	if b, isPlan := pub.evs[1].Body.(*event.ArrangementCreated); !isPlan || b.Type != event.InstallmentPlan || len(b.Installments) != 2 ||
		pub.evs[1].Source != "api:c-supervisor" {
		t.Errorf("approved event %+v", pub.evs[1])
	}
}
