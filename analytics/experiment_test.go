package analytics_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
	"github.com/arrears/arrears/cmd/arrears/simulate"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/replay"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// experimentBook generates a book whose postpaid accounts are in
// experiment id with the arm-specific response r, runs it through the core
// (replay.Book, as the processor steps partitions) under the shipped
// policies with postpaid-standard vs postpaid-soft at r.Share, and returns
// the rows the sink would land: the input facts, every action and a status
// per changed step.
func experimentBook(t *testing.T, r *workload.ArmResponse, accounts int) []analytics.Row {
	t.Helper()
	env := testkit.ExperimentEnv(t, "..", r.Experiment, r.Share)
	g := workload.New(workload.Options{Seed: 14, Accounts: accounts, Months: 3, Partitions: 4, TickEvery: 6 * time.Hour, ArmResponse: r})
	var rows []analytics.Row
	var off int64
	src := func() analytics.Source { off++; return analytics.Source{Topic: "ar.test", Partition: 0, Offset: off} }
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	book := replay.New(env, replay.Options{Partitions: 4, PartitionOf: func(a string) int32 { return int32(len(a) % 4) },
		Observe: func(acct string, st *core.State, out *core.Output, at time.Time, _ *event.Event) {
			for i := range out.Actions {
				rows = append(rows, analytics.ActionRow(&out.Actions[i], src(), now))
			}
			if out.Changed {
				s := st.Status(at)
				rows = append(rows, analytics.StatusRow(&s, src(), now))
			}
		}})
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if ev.Body.Kind() != event.KindClockTick {
			rows = append(rows, analytics.EventRows(ev, src(), now)...)
		}
		if err := book.Step(ev); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

// TestExperimentReport is the done-when: on a generated book whose
// challenger is built to cure faster (workload.ArmResponse: cure 0.35 vs
// 0.65 within 14 days of entering dunning, so the true effect is +0.30),
// the experiment report finds the difference significant and its 95%
// interval contains the true effect; each arm's cure interval contains its
// own rate; every count (accounts, entered, cured, roll base and rolled,
// cash per account, contacts and their cost, suspensions, write-offs)
// equals the one Go makes from the landed rows; and the SQL gives the same
// table on current ClickHouse (chDB). The seed is fixed: the 95% intervals
// hold for about 95% of seeds (with seed 11 the challenger's cure interval
// [0.5597, 0.6491] missed 0.65 by 2 standard errors).
func TestExperimentReport(t *testing.T) {
	r := &workload.ArmResponse{Experiment: "EXP-2026-12", Share: 0.3, Segment: event.Postpaid, OnTime: 0.5, Cure: [2]float64{0.35, 0.65}}
	rows := experimentBook(t, r, 2500)
	c := analytics.TestConn(t)
	ctx := context.Background()
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := analytics.InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	tb, err := analytics.Report(ctx, c, "experiment", analytics.ReportOptions{AsOf: asOf, Experiment: r.Experiment})
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, n := range tb.Columns {
		col[n] = i
	}
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows, want champion and challenger:\n%v", len(tb.Rows), tb.Rows)
	}
	f := func(row []any, name string) float64 {
		t.Helper()
		switch v := row[col[name]].(type) {
		case float64:
			return v
		case uint64:
			return float64(v)
		}
		t.Fatalf("%s = %v (%T)", name, row[col[name]], row[col[name]])
		return 0
	}
	champ, chal := tb.Rows[0], tb.Rows[1]
	if champ[col["arm"]] != "champion" || chal[col["arm"]] != "challenger" {
		t.Fatalf("arms %v, %v", champ[col["arm"]], chal[col["arm"]])
	}
	for i, row := range [][]any{champ, chal} {
		if lo, hi := f(row, "cure_ci_low"), f(row, "cure_ci_high"); r.Cure[i] < lo || r.Cure[i] > hi {
			t.Errorf("%s: cure rate %.4f [%.4f, %.4f] does not contain the true %.2f", row[col["arm"]], f(row, "cure_rate"), lo, hi, r.Cure[i])
		}
		if f(row, "entered") < 200 || f(row, "contacts") == 0 || f(row, "cash_per_account") <= 0 {
			t.Errorf("%s: too small a book: %v", row[col["arm"]], row)
		}
		if lo, hi, m := f(row, "cash_ci_low"), f(row, "cash_ci_high"), f(row, "cash_per_account"); !(lo < m && m < hi) {
			t.Errorf("%s: cash per account %.2f outside its interval [%.2f, %.2f]", row[col["arm"]], m, lo, hi)
		}
	}
	// Every count the SQL makes, made again in Go from the landed rows.
	ref := referenceArms(t, rows, asOf, 14)
	for _, row := range [][]any{champ, chal} {
		want := ref[row[col["arm"]].(string)]
		for name, v := range want {
			if got := f(row, name); math.Abs(got-v) > 1e-6 {
				t.Errorf("%s: %s = %v, the rows give %v", row[col["arm"]], name, got, v)
			}
		}
	}
	effect := r.Cure[1] - r.Cure[0]
	if p := f(chal, "p_value"); p >= 0.05 {
		t.Errorf("difference not significant: z %.2f, p %.3g", f(chal, "z"), p)
	}
	if lo, hi := f(chal, "uplift_ci_low"), f(chal, "uplift_ci_high"); effect < lo || effect > hi {
		t.Errorf("uplift %.4f [%.4f, %.4f] does not contain the true effect %.2f", f(chal, "cure_uplift"), lo, hi, effect)
	}
	if champ[col["cure_uplift"]] != nil {
		t.Errorf("the champion's row carries an uplift: %v", champ[col["cure_uplift"]])
	}
	// The share held: 30% of the postpaid accounts (binomial, 4 sigma).
	n := f(champ, "accounts") + f(chal, "accounts")
	if share := f(chal, "accounts") / n; math.Abs(share-r.Share) > 4*math.Sqrt(r.Share*(1-r.Share)/n) {
		t.Errorf("challenger share %.3f of %v accounts", share, n)
	}
	t.Logf("champion %v\nchallenger %v", champ, chal)

	py := chdbtest.Python(t)
	var queries []chdbtest.Query
	for _, o := range []analytics.ReportOptions{{AsOf: asOf}, {AsOf: asOf, Experiment: r.Experiment, Segment: "postpaid", CureDays: 10}} {
		sql, err := analytics.ReportSQL(c.Database, "experiment", o)
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, chdbtest.Query{Name: "experiment " + o.Experiment, SQL: sql})
	}
	if equal, _, _ := chdbtest.Compare(t, py, c.Database, queries); equal != len(queries) {
		t.Errorf("%d of %d experiment queries equal on both engines", equal, len(queries))
	}
}

// referenceArms computes, per arm, the experiment report's counts from
// the rows (docs/policies.md "Reading an experiment"), independently of the
// SQL: accounts, entered and cured (cureDays), roll_base and rolled,
// cash_per_account, contacts, contact_cost (default prices), suspensions
// and write-offs.
func referenceArms(t *testing.T, rows []analytics.Row, asOf time.Time, cureDays int) map[string]map[string]float64 {
	t.Helper()
	ix := func(s *analytics.TableSpec, name string) int {
		for i, c := range s.Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("%s has no column %s", s.Name, name)
		return -1
	}
	A, S, P := analytics.ActionsTable, analytics.StatusTable, analytics.PaymentsTable
	type pay struct {
		at  time.Time
		cur string
		amt float64
	}
	type acct struct {
		arm             string
		assigned, entry time.Time
		due             float64
		cur             string
		dpd             int32
		contacts        float64
		cost            float64
		suspended, wo   bool
	}
	end := asOf.AddDate(0, 0, 1)
	accts := map[string]*acct{}
	pays := map[string][]pay{}
	dec := func(v any) float64 { f, _ := v.(decimal.Decimal).Float64(); return f }
	for _, r := range rows {
		v := r.Values
		switch r.Table {
		case S:
			at := v[ix(S, "status_time")].(time.Time)
			if v[ix(S, "experiment_id")] == "" || !at.Before(end) {
				continue
			}
			id := v[ix(S, "account_id")].(string)
			a := accts[id]
			if a == nil {
				a = &acct{arm: v[ix(S, "arm")].(string), assigned: at}
				accts[id] = a
			}
			if at.Before(a.assigned) {
				a.assigned, a.arm = at, v[ix(S, "arm")].(string)
			}
		case P:
			id := v[ix(P, "account_id")].(string)
			pays[id] = append(pays[id], pay{v[ix(P, "event_time")].(time.Time), v[ix(P, "currency")].(string), dec(v[ix(P, "amount")])})
		}
	}
	for _, r := range rows {
		v := r.Values
		if r.Table != A || v[ix(A, "experiment_id")] == "" {
			continue
		}
		at := v[ix(A, "action_time")].(time.Time)
		a := accts[v[ix(A, "account_id")].(string)]
		if a == nil || !at.Before(end) {
			continue
		}
		switch v[ix(A, "action_type")] {
		case "NOTIFY":
			a.contacts++
			a.cost += analytics.DefaultContactCost()[v[ix(A, "channel")].(string)]
		case "SUSPEND":
			a.suspended = true
		case "WRITE_OFF":
			a.wo = true
		}
		if od := dec(v[ix(A, "overdue_amount")]); od > 0 && (a.entry.IsZero() || at.Before(a.entry)) {
			a.entry, a.due, a.cur, a.dpd = at, od, v[ix(A, "currency")].(string), v[ix(A, "days_past_due")].(int32)
		}
	}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	out := map[string]map[string]float64{}
	for id, a := range accts {
		m := out[a.arm]
		if m == nil {
			m = map[string]float64{}
			out[a.arm] = m
		}
		m["accounts"]++
		m["contacts"] += a.contacts
		m["contact_cost"] += a.cost
		if a.suspended {
			m["suspensions"]++
		}
		if a.wo {
			m["write_offs"]++
		}
		paid := func(until time.Time) float64 {
			s := 0.0
			for _, p := range pays[id] {
				if p.cur == a.cur && p.at.After(a.entry) && !p.at.After(until) {
					s += p.amt
				}
			}
			return s
		}
		for _, p := range pays[id] {
			if !p.at.Before(a.assigned) && p.at.Before(end) {
				m["cash"] += p.amt
			}
		}
		if a.entry.IsZero() {
			continue
		}
		if !day(a.entry).AddDate(0, 0, cureDays).After(asOf) {
			m["entered"]++
			if paid(a.entry.AddDate(0, 0, cureDays)) >= a.due-1e-9 {
				m["cured"]++
			}
		}
		if roll := int(31 - a.dpd); !day(a.entry).AddDate(0, 0, roll).After(asOf) {
			m["roll_base"]++
			if paid(a.entry.AddDate(0, 0, roll)) < a.due-1e-9 {
				m["rolled"]++
			}
		}
	}
	for _, m := range out {
		m["cash_per_account"] = math.Round(m["cash"]/m["accounts"]*1e4) / 1e4
		m["contact_cost"] = math.Round(m["contact_cost"]*1e4) / 1e4
		delete(m, "cash")
	}
	return out
}

// TestDefaultContactCost: the experiment report prices contacts as
// simulate does by default (the CLI passes simulate.contact_cost).
func TestDefaultContactCost(t *testing.T) {
	sim := simulate.Defaults().ContactCost
	def := analytics.DefaultContactCost()
	if len(sim) != len(def) {
		t.Fatalf("simulate prices %v, the report %v", sim, def)
	}
	for ch, v := range sim {
		if def[string(ch)] != v {
			t.Errorf("%s: simulate %v, report %v", ch, v, def[string(ch)])
		}
	}
}

// TestExperimentIDLiteral: an experiment id reaches the SQL as one string
// literal, quotes escaped and placeholders left alone.
func TestExperimentIDLiteral(t *testing.T) {
	sql, err := analytics.ReportSQL("db", "experiment", analytics.ReportOptions{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Experiment: "E{END}'x"})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(sql, `experiment_id = 'E{END}\'x'`); n != 2 {
		t.Fatalf("the id appears %d times as a literal, want 2:\n%s", n, sql)
	}
}
