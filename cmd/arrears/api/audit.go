package api

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"time"
)

// auditEntry is what a write handler tells the audit row about its
// request, filled in as it goes (auditOf).
type auditEntry struct {
	account string // when the path has no {id} (approvals)
	eventID string
	detail  string
}

type auditKey struct{}

// auditOf is the request's audit entry (nil outside write routes).
func auditOf(r *http.Request) *auditEntry {
	if r == nil {
		return nil
	}
	a, _ := r.Context().Value(auditKey{}).(*auditEntry)
	return a
}

// AuditRow is a row of the audit table (analytics/migrations/0007_audit.sql).
type AuditRow struct {
	Time           time.Time `json:"time"`
	Actor          string    `json:"actor"`
	Role           string    `json:"role"`
	Method         string    `json:"method"`
	Route          string    `json:"route"`
	AccountID      string    `json:"account_id"`
	RequestID      string    `json:"request_id"`
	IdempotencyKey string    `json:"idempotency_key"`
	EventID        string    `json:"event_id"`
	Status         int       `json:"status"`
	Detail         string    `json:"detail"`
}

// audited writes one audit row for every request of a write route that
// got past authentication, whatever its outcome (a 403 is audited as
// well as a 202). The row is inserted before the response is finished, so
// that GET .../audit right after shows it; a ClickHouse failure is logged
// and counted, and does not change the answer (the event is already on
// ar.events).
func (s *Server) audited(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &auditEntry{}
		sw := &statusWriter{ResponseWriter: w}
		p := principalOf(r)
		start := s.deps.Now().UTC()
		next.ServeHTTP(&auditFlush{statusWriter: sw, flush: func(code int) {
			s.insertAudit(r.Context(), AuditRow{
				Time: start, Actor: p.Name, Role: p.Role, Method: r.Method, Route: method(rt.pattern) + " " + Prefix + path(rt.pattern),
				AccountID: cmp.Or(a.account, valid(r.PathValue("id"), validAccountID)), RequestID: requestID(r.Context()),
				IdempotencyKey: valid(idemKeyOf(r), idemKeyRE.MatchString),
				EventID:        a.eventID, Status: code, Detail: a.detail,
			})
		}}, r.WithContext(context.WithValue(r.Context(), auditKey{}, a)))
	})
}

// valid is s when ok(s), else empty: a row holds no input that failed
// validation (nothing unvalidated reaches ClickHouse).
func valid(s string, ok func(string) bool) string {
	if ok(s) {
		return s
	}
	return ""
}

// auditFlush runs flush once, just before the status line goes out.
type auditFlush struct {
	*statusWriter
	flush func(code int)
	done  bool
}

func (w *auditFlush) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.flush(code)
	}
	w.statusWriter.WriteHeader(code)
}

func (w *auditFlush) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.statusWriter.Write(b)
}

// insertAudit writes one row; it is detached from the request's
// cancellation (a client that hangs up is still audited).
func (s *Server) insertAudit(ctx context.Context, row AuditRow) {
	conn := cmp.Or(s.deps.Audit, s.deps.History)
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := func() error {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+conn.Table("audit")+
			" (time, time_ms, actor, role, method, route, account_id, request_id, idempotency_key, event_id, status, detail)")
		if err != nil {
			return err
		}
		if err := b.Append(row.Time, row.Time.UnixMilli(), row.Actor, row.Role, row.Method, row.Route, row.AccountID,
			row.RequestID, row.IdempotencyKey, row.EventID, uint16(row.Status), row.Detail); err != nil {
			_ = b.Abort()
			return err
		}
		return b.Send()
	}()
	if err != nil {
		s.metrics.auditErrors.Inc()
		s.log.Error("api audit row not written", "route", row.Route, "status", row.Status, "err", err)
	}
}

// listAudit is GET /accounts/{id}/audit?limit=N: the account's audit rows,
// newest first (limit 1-1000, default 100).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", FieldError{"?limit", "an integer from 1 to 1000"})
			return
		}
		limit = n
	}
	acct := r.PathValue("id")
	if fe := checkAccountID(acct); fe != nil {
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", *fe)
		return
	}
	items := []AuditRow{}
	if s.deps.History != nil {
		rows, err := s.deps.History.Query(r.Context(), "SELECT time, time_ms, actor, role, method, route, account_id, request_id,"+
			" idempotency_key, event_id, status, detail FROM "+s.deps.History.Table("audit")+
			" WHERE account_id = ? ORDER BY time_ms DESC LIMIT "+strconv.Itoa(limit), acct)
		if err != nil {
			s.unavailable(w, r, "clickhouse", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var a AuditRow
			var ms int64
			var st uint16
			if err := rows.Scan(&a.Time, &ms, &a.Actor, &a.Role, &a.Method, &a.Route, &a.AccountID, &a.RequestID,
				&a.IdempotencyKey, &a.EventID, &st, &a.Detail); err != nil {
				s.unavailable(w, r, "clickhouse", err)
				return
			}
			a.Time, a.Status = time.UnixMilli(ms).UTC(), int(st)
			items = append(items, a)
		}
		if err := rows.Err(); err != nil {
			s.unavailable(w, r, "clickhouse", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"account_id": acct, "items": items})
}

// unavailable answers 503 for a backing service's failure; the error is
// logged (it names no account or input).
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, service string, err error) {
	s.log.Error("api backing service failed", "service", service, "route", r.Pattern, "err", err)
	writeProblem(w, r, http.StatusServiceUnavailable, "Service unavailable", service+" did not answer")
}
