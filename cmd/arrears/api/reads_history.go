package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/arrears/arrears/processor/event"
)

// The ClickHouse reads: account search over the latest status row of each
// account, and the account timeline. The SQL runs on 18.16 (no window
// functions; ANY LEFT JOIN; tuple comparison for keyset paging). Money is
// read as Int64 units of 10^-4 and printed by event.Amount, so the text
// does not depend on how a release prints a Decimal. Every value reaches the
// server as a bound parameter.

// units reads a Decimal(18, 4) column as Int64 units of 10^-4.
func units(col string) string { return "toInt64(toDecimal128(" + col + ", 4) * 10000)" }

// Paging bounds of every list route.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxFilterLen = 128
)

// AccountSummary is one account in a search result: its latest status row
// in ClickHouse (what the sink landed last, seconds behind Redis).
type AccountSummary struct {
	AccountID    string    `json:"account_id"`
	Segment      string    `json:"segment"`
	ParentID     string    `json:"parent_id"`
	Currency     string    `json:"currency"`
	Overdue      string    `json:"overdue"`
	DaysPastDue  int32     `json:"days_past_due"`
	Stage        string    `json:"stage"`
	ServiceState string    `json:"service_state"`
	RiskTier     string    `json:"risk_tier"`
	PD           float64   `json:"pd"`
	OnHold       bool      `json:"on_hold"`
	Arrangement  string    `json:"arrangement_id"`
	Closed       bool      `json:"closed"`
	StatusTime   time.Time `json:"status_time"`
}

// Page is one page of a list; NextCursor (empty on the last page) asks for
// the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// searchFilter is a validated GET /accounts query.
type searchFilter struct {
	prefix, parent, segment, stage, tier, service, after string
	limit                                                int
}

// parseLimit reads ?limit (1..maxLimit, default defaultLimit).
func parseLimit(r *http.Request) (int, *FieldError) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, &FieldError{Field: "limit", Message: fmt.Sprintf("an integer from 1 to %d", maxLimit)}
	}
	return n, nil
}

// validAccountID bounds an account id taken from a path or a query.
func validAccountID(s string) bool { return s != "" && validText(s) }

// validText is at most maxFilterLen bytes of printable characters.
func validText(s string) bool {
	if len(s) > maxFilterLen {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

// encodeCursor and decodeCursor make a page's resume point opaque: the
// parts after a version mark, base64url. A string without the mark (or
// with another count of parts) is not a cursor this API made.
const cursorMark = "c1"

func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorMark + "\x00" + strings.Join(parts, "\x00")))
}

func decodeCursor(s string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n+1 || parts[0] != cursorMark {
		return nil, false
	}
	return parts[1:], true
}

func parseSearch(r *http.Request) (searchFilter, []FieldError) {
	q := r.URL.Query()
	f := searchFilter{prefix: q.Get("prefix"), parent: q.Get("parent"), segment: q.Get("segment"),
		stage: q.Get("stage"), tier: q.Get("tier"), service: q.Get("service_state")}
	var errs []FieldError
	for name, v := range map[string]string{"prefix": f.prefix, "parent": f.parent, "segment": f.segment,
		"stage": f.stage, "tier": f.tier, "service_state": f.service} {
		if !validText(v) {
			errs = append(errs, FieldError{Field: name, Message: fmt.Sprintf("at most %d printable characters", maxFilterLen)})
		}
	}
	var fe *FieldError
	if f.limit, fe = parseLimit(r); fe != nil {
		errs = append(errs, *fe)
	}
	if c := q.Get("cursor"); c != "" {
		p, ok := decodeCursor(c, 1)
		if !ok {
			errs = append(errs, FieldError{Field: "cursor", Message: "not a cursor this API returned"})
		} else {
			f.after = p[0]
		}
	}
	return f, errs
}

// searchSQL renders the search and its arguments: the latest status row of
// each account (by status time, then offset on the status topic, where an
// account's records keep their order; two records of one second share a
// status time) whose id has the
// prefix and sorts after the cursor, filtered, in id order.
func searchSQL(db string, f searchFilter) (string, []any) {
	var keys []string
	var args []any
	if f.prefix != "" {
		keys, args = append(keys, "startsWith(account_id, ?)"), append(args, f.prefix)
	}
	if f.after != "" {
		keys, args = append(keys, "account_id > ?"), append(args, f.after)
	}
	key := "1"
	if len(keys) > 0 {
		key = strings.Join(keys, " AND ")
	}
	keyArgs := args
	var having []string
	for _, c := range []struct{ col, v string }{{"segment", f.segment}, {"stage", f.stage}, {"risk_tier", f.tier}, {"service_state", f.service}} {
		if c.v != "" {
			having, args = append(having, c.col+" = ?"), append(args, c.v)
		}
	}
	if f.parent != "" {
		having, args = append(having, "account_id IN (SELECT account_id FROM "+db+".accounts WHERE "+key+
			" GROUP BY account_id HAVING argMax(parent_id, event_time) = ?)"), append(append(args, keyArgs...), f.parent)
	}
	cond := "1"
	if len(having) > 0 {
		cond = strings.Join(having, " AND ")
	}
	args = append(args, keyArgs...)
	q := `SELECT account_id, segment, parent_id, currency, overdue_u, dpd, stage, service_state, risk_tier, pd, on_hold, arrangement_id, closed, at
FROM (
    SELECT account_id, argMax(segment, v) AS segment, argMax(currency, v) AS currency,
        argMax(` + units("overdue_amount") + `, v) AS overdue_u, argMax(days_past_due, v) AS dpd,
        argMax(stage, v) AS stage, argMax(service_state, v) AS service_state, argMax(risk_tier, v) AS risk_tier,
        argMax(pd, v) AS pd, argMax(on_hold, v) AS on_hold, argMax(arrangement_id, v) AS arrangement_id,
        argMax(closed, v) AS closed, max(status_time) AS at
    FROM (SELECT *, (status_time, kafka_offset) AS v FROM ` + db + `.account_status WHERE ` + key + `)
    GROUP BY account_id
    HAVING ` + cond + `
) AS latest
ANY LEFT JOIN (
    SELECT account_id, argMax(parent_id, event_time) AS parent_id FROM ` + db + `.accounts WHERE ` + key + ` GROUP BY account_id
) AS masters USING account_id
ORDER BY account_id
LIMIT ` + strconv.Itoa(f.limit+1)
	return q, append(args, keyArgs...)
}

// searchAccounts: GET /accounts?prefix&parent&segment&stage&tier&service_state&limit&cursor.
func (s *Server) searchAccounts(w http.ResponseWriter, r *http.Request) {
	f, errs := parseSearch(r)
	if len(errs) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid query", "", errs...)
		return
	}
	page, err := s.search(r.Context(), f)
	if err != nil {
		s.readFailed(w, r, "search accounts", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) search(ctx context.Context, f searchFilter) (Page[AccountSummary], error) {
	h := s.deps.History
	q, args := searchSQL(h.Database, f)
	rows, err := h.Query(ctx, q, args...)
	if err != nil {
		return Page[AccountSummary]{}, fmt.Errorf("search accounts: %w", err)
	}
	defer rows.Close()
	p := Page[AccountSummary]{Items: []AccountSummary{}}
	for rows.Next() {
		var a AccountSummary
		var u int64
		var hold, closed uint8
		if err := rows.Scan(&a.AccountID, &a.Segment, &a.ParentID, &a.Currency, &u, &a.DaysPastDue, &a.Stage,
			&a.ServiceState, &a.RiskTier, &a.PD, &hold, &a.Arrangement, &closed, &a.StatusTime); err != nil {
			return p, fmt.Errorf("search accounts: scan: %w", err)
		}
		a.Overdue, a.OnHold, a.Closed, a.StatusTime = event.Amount(u).String(), hold == 1, closed == 1, a.StatusTime.UTC()
		p.Items = append(p.Items, a)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("search accounts: %w", err)
	}
	if len(p.Items) > f.limit {
		p.Items = p.Items[:f.limit]
		p.NextCursor = encodeCursor(p.Items[f.limit-1].AccountID)
	}
	return p, nil
}

// TimelineEntry is one thing that happened to an account: an input event
// (billing's or an operator's: kind NoteAdded, CallLogged, ...), a dunning
// action, a GL entry, a risk event or a status change.
type TimelineEntry struct {
	At       time.Time `json:"at"`
	Type     string    `json:"type"` // event, action, gl, risk, status
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Currency string    `json:"currency"`
	Amount   string    `json:"amount"`
	Detail   string    `json:"detail"`
}

// timelineSQL: every branch is cut to the account, before the cursor
// (at, type, id) and to limit+1 rows, then merged newest first.
func timelineSQL(db, id string, limit int, before []string) (string, []any) {
	cond, cargs := "1", []any(nil)
	if before != nil {
		sec, _ := strconv.ParseInt(before[0], 10, 64)
		cond, cargs = "(toUInt32(at), type, id) < (toUInt32(?), ?, ?)", []any{sec, before[1], before[2]}
	}
	lim := strconv.Itoa(limit + 1)
	branch := func(sel, from string) string {
		return "SELECT * FROM (" + sel + " FROM " + db + "." + from + " FINAL WHERE account_id = ?) WHERE " + cond +
			" ORDER BY at DESC, type DESC, id DESC LIMIT " + lim
	}
	q := `SELECT at, type, kind, id, source, currency, amount_u, detail FROM (
` + strings.Join([]string{
		branch(`SELECT event_time AS at, 'event' AS type, kind, event_id AS id, source, currency, `+units("amount")+` AS amount_u,
        concat(detail, if(ref_id = '', '', concat(' [', ref_id, ']')), if(invoice_id = '', '', concat(' invoice ', invoice_id))) AS detail`, "events"),
		branch(`SELECT action_time AS at, 'action' AS type, action_type AS kind, action_id AS id, concat('policy:', policy_name) AS source,
        currency, `+units("overdue_amount")+` AS amount_u,
        concat(stage, if(channel = '', '', concat(' via ', channel)), if(queue = '', '', concat(' queue ', queue)), ': ', reason) AS detail`, "dunning_actions"),
		branch(`SELECT entry_time AS at, 'gl' AS type, kind, entry_id AS id, '' AS source, currency, `+units("amount")+` AS amount_u,
        concat(debit_account, ' / ', credit_account, ': ', description) AS detail`, "gl_entries"),
		branch(`SELECT event_time AS at, 'risk' AS type, tier AS kind, event_id AS id, concat('model:', model_version) AS source, '' AS currency,
        toInt64(0) AS amount_u, concat(previous_tier, ' -> ', tier, ' pd=', toString(pd), ' score=', toString(score)) AS detail`, "risk_events"),
		branch(`SELECT status_time AS at, 'status' AS type, if(stage = '', 'NONE', stage) AS kind,
        concat(toString(kafka_partition), ':', toString(kafka_offset)) AS id, '' AS source, currency, `+units("overdue_amount")+` AS amount_u,
        concat('dpd=', toString(days_past_due), ' service=', service_state, ' tier=', risk_tier,
            if(arrangement_id = '', '', concat(' arrangement=', arrangement_id)), if(on_hold = 1, ' on_hold', ''), if(closed = 1, ' closed', '')) AS detail`, "account_status"),
	}, "\nUNION ALL\n") + `
)
ORDER BY at DESC, type DESC, id DESC
LIMIT ` + lim
	var args []any
	for range 5 {
		args = append(append(args, id), cargs...)
	}
	return q, args
}

// getTimeline: GET /accounts/{id}/timeline?limit&before.
func (s *Server) getTimeline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var errs []FieldError
	if !validAccountID(id) {
		errs = append(errs, FieldError{Field: "id", Message: "1 to 128 printable characters"})
	}
	limit, fe := parseLimit(r)
	if fe != nil {
		errs = append(errs, *fe)
	}
	var before []string
	if c := r.URL.Query().Get("before"); c != "" {
		var ok bool
		if before, ok = decodeCursor(c, 3); !ok {
			errs = append(errs, FieldError{Field: "before", Message: "not a cursor this API returned"})
		} else if _, err := strconv.ParseInt(before[0], 10, 64); err != nil {
			errs = append(errs, FieldError{Field: "before", Message: "not a cursor this API returned"})
		}
	}
	if len(errs) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid query", "", errs...)
		return
	}
	page, err := s.timeline(r.Context(), id, limit, before)
	if err != nil {
		s.readFailed(w, r, "timeline", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) timeline(ctx context.Context, id string, limit int, before []string) (Page[TimelineEntry], error) {
	h := s.deps.History
	q, args := timelineSQL(h.Database, id, limit, before)
	rows, err := h.Query(ctx, q, args...)
	if err != nil {
		return Page[TimelineEntry]{}, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	p := Page[TimelineEntry]{Items: []TimelineEntry{}}
	for rows.Next() {
		var e TimelineEntry
		var u int64
		if err := rows.Scan(&e.At, &e.Type, &e.Kind, &e.ID, &e.Source, &e.Currency, &u, &e.Detail); err != nil {
			return p, fmt.Errorf("timeline: scan: %w", err)
		}
		e.At, e.Amount = e.At.UTC(), event.Amount(u).String()
		if e.Type == "risk" {
			e.Amount = ""
		}
		p.Items = append(p.Items, e)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("timeline: %w", err)
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		last := p.Items[limit-1]
		p.NextCursor = encodeCursor(strconv.FormatInt(last.At.Unix(), 10), last.Type, last.ID)
	}
	return p, nil
}
