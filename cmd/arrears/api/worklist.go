package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Worklists are read from ClickHouse: the agent tasks dunning decided
// (dunning_actions), the operator events that worked them (events) and
// each account's latest status row (account_status).
//
// An open task (docs/api.md "Worklists"): the AGENT_TASK action T of
// account A is open when
//  1. T is A's newest AGENT_TASK (by action time, then action id): a newer
//     task replaces it, so an account is in at most one queue at a time;
//  2. nothing worked A since T: no event of a workedKinds kind with an
//     event time at or after T's action time (a logged call of any outcome,
//     a new promise or plan, a scheduled call-back: a call-back that falls
//     due is a new task);
//  3. A's latest status is not closed, not on hold and still overdue
//     (overdue amount of its primary currency above zero).
//
// Its expected loss is the latest status's PD times that overdue amount; a
// worklist is ordered by expected loss, highest first, then by age (oldest
// task first), then by account id.
var workedKinds = []string{"CallLogged", "ArrangementCreated", "CallbackScheduled"}

// Task is one open agent task in a worklist.
type Task struct {
	AccountID    string    `json:"account_id"`
	Queue        string    `json:"queue"`
	TaskID       string    `json:"task_id"`
	TaskAt       time.Time `json:"task_at"`
	Stage        string    `json:"stage"`
	Priority     int32     `json:"priority"`
	Reason       string    `json:"reason"`
	Currency     string    `json:"currency"`
	Overdue      string    `json:"overdue"`
	DaysPastDue  int32     `json:"days_past_due"`
	PD           float64   `json:"pd"`
	ExpectedLoss string    `json:"expected_loss"`
	RiskTier     string    `json:"risk_tier"`
}

// QueueSummary is one queue of the overview.
type QueueSummary struct {
	Queue        string    `json:"queue"`
	OpenTasks    int64     `json:"open_tasks"`
	ExpectedLoss string    `json:"expected_loss"`
	OldestTaskAt time.Time `json:"oldest_task_at"`
}

// openTasksSQL selects the open tasks (the definition above) of the queues
// given (all when nil) with their expected loss in units (el_u).
func openTasksSQL(db string, queues []string) (string, []any) {
	qcond, qargs := "1", []any(nil)
	if queues != nil {
		qcond, qargs = "has(?, queue)", []any{queues}
	}
	accts := "(SELECT DISTINCT account_id FROM " + db + ".dunning_actions WHERE action_type = 'AGENT_TASK' AND " + qcond + ")"
	// The placeholders in the order they appear below.
	args := slices.Concat(qargs, qargs, qargs, []any{workedKinds}, qargs)
	// 18.16 joins one table per SELECT: the tasks joined with the
	// latest status rows are joined with the work done since. The tasks
	// are read without FINAL: a re-delivered action is the same row, and
	// argMax picks the same values from either copy.
	q := `SELECT account_id, queue, task_id, task_at, stage, priority, reason, currency, overdue_u, dpd, pd, risk_tier,
    toInt64(pd * overdue_u) AS el_u
FROM (
    SELECT * FROM (
        SELECT account_id, argMax(queue, v) AS queue, argMax(action_id, v) AS task_id, max(action_time) AS task_at,
            argMax(stage, v) AS stage, argMax(priority, v) AS priority, argMax(reason, v) AS reason
        FROM (SELECT account_id, queue, action_id, action_time, stage, priority, reason, (action_time, action_id) AS v
              FROM ` + db + `.dunning_actions WHERE action_type = 'AGENT_TASK' AND account_id IN ` + accts + `)
        GROUP BY account_id
        HAVING ` + qcond + `
    ) AS tasks
    ANY INNER JOIN (
        SELECT account_id, argMax(currency, v) AS currency, argMax(overdue_u, v) AS overdue_u, argMax(days_past_due, v) AS dpd,
            argMax(pd, v) AS pd, argMax(risk_tier, v) AS risk_tier, argMax(closed, v) AS is_closed, argMax(on_hold, v) AS is_on_hold
        FROM (SELECT account_id, currency, ` + units("overdue_amount") + ` AS overdue_u, days_past_due, pd, risk_tier, closed, on_hold,
                  (status_time, kafka_offset) AS v
              FROM ` + db + `.account_status WHERE account_id IN ` + accts + `)
        GROUP BY account_id
        HAVING is_closed = 0 AND is_on_hold = 0 AND overdue_u > 0
    ) AS latest USING account_id
) AS open_tasks
ANY LEFT JOIN (
    SELECT account_id, max(event_time) AS worked_at FROM ` + db + `.events
    WHERE has(?, kind) AND account_id IN ` + accts + ` GROUP BY account_id
) AS work USING account_id
WHERE worked_at < task_at`
	return q, args
}

// worklistSQL is a page of one queue's open tasks after the cursor
// (expected loss, task time, account id).
func worklistSQL(db, queue string, limit int, after []string) (string, []any) {
	inner, args := openTasksSQL(db, []string{queue})
	cond := "1"
	if after != nil {
		el, _ := strconv.ParseInt(after[0], 10, 64)
		at, _ := strconv.ParseInt(after[1], 10, 64)
		cond = "(-el_u, toUInt32(task_at), account_id) > (?, toUInt32(?), ?)"
		args = append(args, -el, at, after[2])
	}
	return "SELECT * FROM (" + inner + ") WHERE " + cond +
		" ORDER BY el_u DESC, task_at, account_id LIMIT " + strconv.Itoa(limit+1), args
}

// queuesSQL counts the open tasks per queue (queues nil: all).
func queuesSQL(db string, queues []string) (string, []any) {
	inner, args := openTasksSQL(db, queues)
	return "SELECT queue, toInt64(count()) AS tasks, toInt64(sum(el_u)) AS el, min(task_at) AS oldest FROM (" + inner +
		") GROUP BY queue ORDER BY queue", args
}

// getWorklist: GET /worklists/{queue}?limit&cursor.
func (s *Server) getWorklist(w http.ResponseWriter, r *http.Request) {
	queue := r.PathValue("queue")
	var errs []FieldError
	if !validAccountID(queue) {
		errs = append(errs, FieldError{Field: "queue", Message: "1 to 128 printable characters"})
	}
	limit, fe := parseLimit(r)
	if fe != nil {
		errs = append(errs, *fe)
	}
	var after []string
	if c := r.URL.Query().Get("cursor"); c != "" {
		var ok bool
		if after, ok = decodeCursor(c, 3); !ok || !numeric(after[0]) || !numeric(after[1]) {
			errs = append(errs, FieldError{Field: "cursor", Message: "not a cursor this API returned"})
		}
	}
	if len(errs) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid query", "", errs...)
		return
	}
	if !principalOf(r).InQueue(queue) {
		writeProblem(w, r, http.StatusForbidden, "Forbidden", "this token does not work that queue")
		return
	}
	page, err := s.worklist(r.Context(), queue, limit, after)
	if err != nil {
		s.readFailed(w, r, "worklist", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func numeric(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func (s *Server) worklist(ctx context.Context, queue string, limit int, after []string) (Page[Task], error) {
	h := s.deps.History
	q, args := worklistSQL(h.Database, queue, limit, after)
	rows, err := h.Query(ctx, q, args...)
	if err != nil {
		return Page[Task]{}, fmt.Errorf("worklist: %w", err)
	}
	defer rows.Close()
	p := Page[Task]{Items: []Task{}}
	var els []int64
	for rows.Next() {
		var t Task
		var overdue, el int64
		if err := rows.Scan(&t.AccountID, &t.Queue, &t.TaskID, &t.TaskAt, &t.Stage, &t.Priority, &t.Reason, &t.Currency,
			&overdue, &t.DaysPastDue, &t.PD, &t.RiskTier, &el); err != nil {
			return p, fmt.Errorf("worklist: scan: %w", err)
		}
		t.TaskAt, t.Overdue, t.ExpectedLoss = t.TaskAt.UTC(), event.Amount(overdue).String(), event.Amount(el).String()
		p.Items, els = append(p.Items, t), append(els, el)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("worklist: %w", err)
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		last := p.Items[limit-1]
		p.NextCursor = encodeCursor(strconv.FormatInt(els[limit-1], 10), strconv.FormatInt(last.TaskAt.Unix(), 10), last.AccountID)
	}
	return p, nil
}

// listQueues: GET /worklists, the queues with open tasks; a collector
// sees its own queues (listed even when empty).
func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var queues []string
	if !p.AtLeast(RoleSupervisor) {
		queues = append([]string{}, p.Queues...)
	}
	out := []QueueSummary{}
	if queues == nil || len(queues) > 0 {
		h := s.deps.History
		q, args := queuesSQL(h.Database, queues)
		rows, err := h.Query(r.Context(), q, args...)
		if err != nil {
			s.readFailed(w, r, "queues", fmt.Errorf("queues: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var qs QueueSummary
			var el int64
			if err := rows.Scan(&qs.Queue, &qs.OpenTasks, &el, &qs.OldestTaskAt); err != nil {
				s.readFailed(w, r, "queues", fmt.Errorf("queues: scan: %w", err))
				return
			}
			qs.ExpectedLoss, qs.OldestTaskAt = event.Amount(el).String(), qs.OldestTaskAt.UTC()
			out = append(out, qs)
		}
		if err := rows.Err(); err != nil {
			s.readFailed(w, r, "queues", fmt.Errorf("queues: %w", err))
			return
		}
	}
	for _, q := range queues {
		if !slices.ContainsFunc(out, func(s QueueSummary) bool { return s.Queue == q }) {
			out = append(out, QueueSummary{Queue: q, ExpectedLoss: "0.0000"})
		}
	}
	slices.SortFunc(out, func(a, b QueueSummary) int { return strings.Compare(a.Queue, b.Queue) })
	writeJSON(w, http.StatusOK, map[string]any{"queues": out})
}

// Callback is a call-back the customer asked for (CallbackScheduled), due
// on the day asked.
type Callback struct {
	AccountID   string    `json:"account_id"`
	CallbackID  string    `json:"callback_id"`
	Queue       string    `json:"queue"`
	DueDate     string    `json:"due_date"`
	ScheduledAt time.Time `json:"scheduled_at"`
	ScheduledBy string    `json:"scheduled_by"`
	Note        string    `json:"note"`
	// Called reports a call logged on the account since it was scheduled.
	Called bool `json:"called"`
}

// callbacksSQL: the call-backs due on day (the sink lands a
// CallbackScheduled with ref_id = its id, due_date = the day of its time
// and detail = "queue: note", analytics.operatorRow), each with the account's newest task queue for
// those that name none, and the time of the account's last logged call.
func callbacksSQL(db string) string {
	due := "(SELECT account_id FROM " + db + ".events WHERE kind = 'CallbackScheduled' AND due_date = toDate(?))"
	return `SELECT account_id, ref_id, detail, event_time, source, task_queue, last_call
FROM (
    SELECT * FROM (
        SELECT account_id, ref_id, detail, event_time, source FROM ` + db + `.events FINAL
        WHERE kind = 'CallbackScheduled' AND due_date = toDate(?)
    ) AS cbs
    ANY LEFT JOIN (
        SELECT account_id, argMax(queue, (action_time, action_id)) AS task_queue FROM ` + db + `.dunning_actions
        WHERE action_type = 'AGENT_TASK' AND account_id IN ` + due + `
        GROUP BY account_id
    ) AS tasks USING account_id
) AS due_callbacks
ANY LEFT JOIN (
    SELECT account_id, max(event_time) AS last_call FROM ` + db + `.events
    WHERE kind = 'CallLogged' AND account_id IN ` + due + `
    GROUP BY account_id
) AS calls USING account_id
ORDER BY account_id, ref_id`
}

// listCallbacks: GET /callbacks?due=YYYY-MM-DD (default: today, UTC), the
// call-backs due that day in the caller's queues.
func (s *Server) listCallbacks(w http.ResponseWriter, r *http.Request) {
	day := s.deps.Now().UTC().Format(time.DateOnly)
	if d := r.URL.Query().Get("due"); d != "" {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			writeProblem(w, r, http.StatusBadRequest, "invalid query", "", FieldError{Field: "due", Message: "a date, YYYY-MM-DD"})
			return
		}
		day = d
	}
	h := s.deps.History
	rows, err := h.Query(r.Context(), callbacksSQL(h.Database), day, day, day)
	if err != nil {
		s.readFailed(w, r, "callbacks", fmt.Errorf("callbacks: %w", err))
		return
	}
	defer rows.Close()
	p := principalOf(r)
	out := []Callback{}
	for rows.Next() {
		c := Callback{DueDate: day}
		var taskQueue string
		var lastCall time.Time
		if err := rows.Scan(&c.AccountID, &c.CallbackID, &c.Queue, &c.ScheduledAt, &c.ScheduledBy, &taskQueue, &lastCall); err != nil {
			s.readFailed(w, r, "callbacks", fmt.Errorf("callbacks: scan: %w", err))
			return
		}
		c.Queue, c.Note = callbackQueue(c.Queue)
		if c.Queue == "" {
			c.Queue = taskQueue
		}
		c.ScheduledAt, c.Called = c.ScheduledAt.UTC(), !lastCall.Before(c.ScheduledAt) && lastCall.Unix() > 0
		if p.InQueue(c.Queue) {
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		s.readFailed(w, r, "callbacks", fmt.Errorf("callbacks: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"due": day, "callbacks": out})
}

// callbackQueue splits a call-back's landed detail, "queue: note", "queue"
// or "note" (no queue named): a detail without ": " is a queue when it is
// one word (queue names have no spaces).
func callbackQueue(detail string) (queue, note string) {
	if q, n, ok := strings.Cut(detail, ": "); ok && !strings.ContainsAny(q, " \t") {
		return q, n
	}
	if detail != "" && !strings.ContainsAny(detail, " \t") {
		return detail, ""
	}
	return "", detail
}
