package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// stack is `arrears run`, `sink` and `serve` (with the operator API) as
// children on private topics, a Redis prefix and a ClickHouse database.
type stack struct {
	t                     *testing.T
	cfg                   config.Config
	url                   string
	collector, supervisor string // bearer tokens
}

func freeAddr(t *testing.T) string {
	t.Helper()
	return testkit.FreeAddr(t, "127.0.0.1")
}

func startStack(t *testing.T) *stack {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	bin := testkit.ArrearsBinary(t)
	cfg := config.Defaults()
	cfg.Kafka = testkit.KafkaConfig(t, 2)
	_, pref := testkit.Redis(t)
	_, chc := testkit.ClickHouse(t, "workspace")
	id := "ws" + testkit.ID()
	cfg.Redis.Addrs, cfg.Redis.Prefix = []string{testkit.RedisAddr}, pref
	cfg.Processor.GroupID, cfg.Processor.TransactionalID, cfg.Sink.GroupID = id, id+"-1", id+"-sink"
	cfg.ClickHouse = chc
	cfg.Core.PolicyDir, cfg.Core.Scorecard = "../../deploy/policies", "../../deploy/risk/scorecard.yaml"
	cfg.HTTP.Listen, cfg.Log.Level = "", "info" // run and sink serve no ops endpoints; serve listens on addr
	addr := freeAddr(t)
	dir := t.TempDir()
	s := &stack{t: t, url: "http://" + addr}
	var lines []string
	for _, p := range []struct {
		name   string
		role   api.Role
		queues []string
		tok    *string
	}{{"ann", api.RoleCollector, []string{"collections"}, &s.collector}, {"sam", api.RoleSupervisor, nil, &s.supervisor}} {
		tok, e, err := api.NewToken(p.name, p.role, p.queues)
		if err != nil {
			t.Fatal(err)
		}
		*p.tok, lines = tok, append(lines, e.Line())
	}
	cfg.API.TokensFile = filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(cfg.API.TokensFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "arrears.yaml")
	secrets, err := cfg.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	for _, args := range [][]string{{"run"}, {"sink"}, {"serve", "-listen", addr}} {
		testkit.StartChild(t, bin, append(args, "-config", path), append(config.ChildEnv(os.Environ()), secrets...),
			filepath.Join(dir, args[0]+".log"))
	}
	s.eventually("serve ready", 60*time.Second, func() (bool, string) {
		res, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		res.Body.Close()
		return res.StatusCode == 200, res.Status
	})
	return s
}

func (s *stack) eventually(what string, timeout time.Duration, f func() (bool, string)) {
	s.t.Helper()
	var last string
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		var ok bool
		if ok, last = f(); ok {
			return
		}
	}
	s.t.Fatalf("%s: not within %s (last: %s)", what, timeout, last)
}

// get calls the API with a token and decodes the JSON answer into v.
func (s *stack) get(token, path string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, s.url+api.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// seed publishes three postpaid accounts whose one invoice fell due 40
// days ago: the processor puts each in the collections queue (an agent
// task at 35 days past due). The biggest overdue (same PD scale) is the
// top task.
func (s *stack) seed(now time.Time) []string {
	codec, err := schemas.New(s.cfg.Codec)
	if err != nil {
		s.t.Fatal(err)
	}
	pub, err := api.NewKafkaPublisher(s.cfg.Kafka, codec)
	if err != nil {
		s.t.Fatal(err)
	}
	defer pub.Close()
	ctx := context.Background()
	due := event.DateOf(now) - 40
	accts := []string{"WS-A", "WS-B", "WS-C"}
	for i, a := range accts {
		amt := event.MustAmount([]string{"900", "300", "120"}[i])
		for _, ev := range []event.Event{
			{ID: a + "-up", Time: now, Source: "crm", Account: a, Body: &event.AccountUpserted{Segment: "postpaid", Currency: "EUR",
				Consents: []event.Channel{event.Email, event.SMS}}},
			{ID: a + "-inv", Time: now, Source: "billing", Account: a, Body: &event.InvoiceIssued{InvoiceID: a + "-I1", Currency: "EUR",
				Amount: amt, IssueDate: due - 14, DueDate: due}},
		} {
			if _, _, err := pub.Publish(ctx, ev); err != nil {
				s.t.Fatal(err)
			}
		}
	}
	return accts
}

// nextFriday is the first Friday after day.
func nextFriday(day time.Time) time.Time {
	d := (int(time.Friday) - int(day.Weekday()) + 7) % 7
	if d == 0 {
		d = 7
	}
	return day.AddDate(0, 0, d)
}

// TestWorkspaceInChromium: in real Chromium against the real stack, a
// collector signs in, opens the top task, records a promise to pay for
// next Friday and, within the wait window, sees dunning paused with the
// next action on that date (and the account leaves the worklist: the
// promise worked its task); the collector proposes a plan, a supervisor
// approves it; the promise and the approval are in the account's audit
// lists.
func TestWorkspaceInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser and stack test; skipped with -short")
	}
	s := startStack(t)
	now := time.Now().UTC()
	accts := s.seed(now)
	s.eventually("three open tasks in collections", 90*time.Second, func() (bool, string) {
		var p struct {
			Items []struct {
				AccountID string `json:"account_id"`
			} `json:"items"`
		}
		if err := s.get(s.collector, "/worklists/collections", &p); err != nil {
			return false, err.Error()
		}
		return len(p.Items) == 3, fmt.Sprintf("%d tasks", len(p.Items))
	})
	friday := nextFriday(now).Format(time.DateOnly)

	bctx := browser(t, 1440, 1300)
	// run runs one phase within a minute; on failure it saves what the
	// page shows and the messages it flashed.
	run := func(name string, tasks ...chromedp.Action) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Run(ctx, tasks...); err != nil {
			var png []byte
			var flash, result, hash string
			dctx, cancel := context.WithTimeout(bctx, 10*time.Second)
			defer cancel()
			_ = chromedp.Run(dctx, chromedp.Text(`#flash`, &flash, chromedp.ByQuery), chromedp.Text(`#form-result`, &result, chromedp.ByQuery),
				chromedp.Evaluate(`location.href + " " + JSON.stringify(document.body.dataset) + " " + document.body.innerText.slice(0, 400)`, &hash), chromedp.FullScreenshot(&png, 100))
			saveShot(t, "workspace-failed.png", png)
			t.Fatalf("%s in the browser: %v (page %s; flashed %q; form result %q)", name, err, hash, flash, result)
		}
	}

	signIn := func(token string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.WaitVisible(`#signin-token`, chromedp.ByQuery),
			chromedp.SendKeys(`#signin-token`, token, chromedp.ByQuery),
			chromedp.Click(`#signin-form button[type=submit]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#signout`, chromedp.ByQuery),
		}
	}
	var top, who, promiseResult, dunning, nextDate, nextType, planResult string
	var png []byte
	run("collector",
		chromedp.Navigate(s.url+"/workspace/"),
		signIn(s.collector),
		chromedp.Text(`#me`, &who, chromedp.ByQuery),
		chromedp.WaitVisible(`#worklist tbody tr.link`, chromedp.ByQuery),
		chromedp.Text(`#worklist tbody tr.link td:nth-child(2)`, &top, chromedp.ByQuery),
		chromedp.Click(`#worklist tbody tr.link`, chromedp.ByQuery),
		chromedp.WaitVisible(`#view-account`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-loaded="`+accts[0]+`"]`, chromedp.ByQuery),
		// the promise form comes filled with the currency and the overdue amount
		chromedp.SetValue(`#form-promise input[name=date]`, friday, chromedp.ByQuery),
		chromedp.Click(`#form-promise button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-last-write="form-promise"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`body`, "data-write-result", &promiseResult, nil, chromedp.ByQuery),
		chromedp.Text(`#acct-dunning`, &dunning, chromedp.ByQuery),
		chromedp.AttributeValue(`#next-at`, "data-date", &nextDate, nil, chromedp.ByQuery),
		chromedp.Text(`#next-type`, &nextType, chromedp.ByQuery),
		// the next customer wants to pay in two parts: a plan, for approval
		chromedp.Navigate(s.url+"/workspace/#/account/"+accts[1]),
		chromedp.WaitVisible(`body[data-loaded="`+accts[1]+`"]`, chromedp.ByQuery),
		chromedp.Click(`#form-tabs button[data-form=plan]`, chromedp.ByQuery),
		chromedp.SendKeys(`#form-plan textarea[name=installments]`,
			nextFriday(now).AddDate(0, 0, 7).Format(time.DateOnly)+" 150\n"+nextFriday(now).AddDate(0, 0, 35).Format(time.DateOnly)+" 155", chromedp.ByQuery),
		chromedp.Click(`#form-plan button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-last-write="form-plan"]`, chromedp.ByQuery),
		chromedp.Text(`#form-result`, &planResult, chromedp.ByQuery),
		chromedp.FullScreenshot(&png, 100),
	)
	saveShot(t, "workspace-collector.png", png)
	if top != accts[0] || !strings.Contains(who, "ann") {
		t.Errorf("signed in as %q, top task %q: want ann and %s (the largest expected loss)", who, top, accts[0])
	}
	if promiseResult != "applied" {
		t.Errorf("the promise's answer was %q: the processor did not apply it within ?wait=5s", promiseResult)
	}
	if strings.TrimSpace(dunning) != "paused: ARRANGEMENT" || nextDate != friday || nextType != api.NextArrangementDue {
		t.Errorf("after the promise the page shows dunning %q, next %q on %q; want paused: ARRANGEMENT, %s on %s",
			dunning, nextType, nextDate, api.NextArrangementDue, friday)
	}
	// The promise worked the task: it leaves the worklist once the sink landed it.
	s.eventually("the promised account leaves the worklist", 60*time.Second, func() (bool, string) {
		var p struct {
			Items []struct {
				AccountID string `json:"account_id"`
			} `json:"items"`
		}
		if err := s.get(s.collector, "/worklists/collections", &p); err != nil {
			return false, err.Error()
		}
		for _, it := range p.Items {
			if it.AccountID == accts[0] {
				return false, fmt.Sprintf("%d tasks, %s among them", len(p.Items), accts[0])
			}
		}
		return len(p.Items) == 2, fmt.Sprintf("%d tasks", len(p.Items))
	})
	if !strings.Contains(planResult, "approval") {
		t.Errorf("the collector's plan: %q, want it sent for approval", planResult)
	}

	var approvals, arrangement, promiseAudit, planAudit string
	run("supervisor",
		chromedp.Click(`#signout`, chromedp.ByQuery),
		signIn(s.supervisor),
		chromedp.Navigate(s.url+"/workspace/#/supervisor"),
		chromedp.WaitVisible(`#approvals button[data-approval]`, chromedp.ByQuery),
		chromedp.Text(`#approvals tbody`, &approvals, chromedp.ByQuery),
		chromedp.Click(`#approvals button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-approvals="0"]`, chromedp.ByQuery),
		chromedp.Navigate(s.url+"/workspace/#/account/"+accts[1]),
		chromedp.WaitVisible(`body[data-loaded="`+accts[1]+`"] #acct-arrangement`, chromedp.ByQuery),
		chromedp.Text(`#acct-arrangement`, &arrangement, chromedp.ByQuery),
		chromedp.Text(`#acct-audit tbody`, &planAudit, chromedp.ByQuery),
		chromedp.Navigate(s.url+"/workspace/#/account/"+accts[0]),
		chromedp.WaitVisible(`body[data-loaded="`+accts[0]+`"] #acct-arrangement`, chromedp.ByQuery),
		chromedp.Text(`#acct-audit tbody`, &promiseAudit, chromedp.ByQuery),
		chromedp.FullScreenshot(&png, 100),
	)
	saveShot(t, "workspace-supervisor.png", png)
	if !strings.Contains(approvals, accts[1]) || !strings.Contains(approvals, "ann") {
		t.Errorf("pending approvals show %q: want ann's plan on %s", approvals, accts[1])
	}
	if !strings.HasPrefix(arrangement, "INSTALLMENT_PLAN") {
		t.Errorf("after the approval the arrangement is %q, want the installment plan", arrangement)
	}
	for _, c := range []struct{ audit, want string }{
		{promiseAudit, "ann (collector)"}, {promiseAudit, "/promises"},
		{planAudit, "ann (collector)"}, {planAudit, "/plans"}, {planAudit, "sam (supervisor)"}, {planAudit, "/approve"},
	} {
		if !strings.Contains(c.audit, c.want) {
			t.Errorf("audit list lacks %q:\n%s", c.want, c.audit)
		}
	}
}

func saveShot(t *testing.T, name string, png []byte) {
	path := filepath.Join(t.TempDir(), name)
	if *screenshotDir != "" {
		path = filepath.Join(*screenshotDir, name)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
