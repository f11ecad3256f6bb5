package api

import (
	"cmp"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// writeResult is the answer of a write (stored with its Idempotency-Key,
// so a retry gets the same one).
type writeResult struct {
	EventID   string `json:"event_id,omitempty"`
	AccountID string `json:"account_id"`
	Kind      string `json:"kind,omitempty"`
	// ID is the id of what the event created (arrangement, hold, dispute,
	// call, callback, note, write-off): the id later routes take.
	ID string `json:"id,omitempty"`
	// Status is "accepted" (an event was produced), "pending_approval" (a
	// collector's plan waits for a supervisor) or "rejected".
	Status     string `json:"status"`
	ApprovalID string `json:"approval_id,omitempty"`
	Partition  *int32 `json:"partition,omitempty"`
	Offset     *int64 `json:"offset,omitempty"`
	// Pending is set with ?wait: true when the wait ran out before the
	// processor applied the event.
	Pending *bool `json:"pending,omitempty"`
	// Account is the account view after the event (?wait, applied).
	Account any `json:"account,omitempty"`
}

// writeReq is a write route's request body: build validates it (adding
// field errors for a 400) and, when it is valid, checks it against the
// account's state (a conflict error for a 409, forbidden for a 403) and
// returns the event body to produce.
type writeReq interface {
	build(c *writeCall, f *fieldErrs) (event.Body, error)
}

// writeSpec is one write route.
type writeSpec struct {
	pattern string
	min     Role
	// entity prefixes the id of what the event creates ("" none).
	entity string
	newReq func() writeReq
}

// writeCall is one write request on its way to an event.
type writeCall struct {
	s       *Server
	r       *http.Request
	p       Principal
	account string
	loaded  Loaded
	// now is the account's now: the later of the partition clock and the
	// wall clock (the processor applies the event at the later of the two).
	now time.Time
	// scope is the hex scope hash (idempotency.go); entityID derives from it.
	scope    string
	entityID string
}

// conflictErr is a request the account's state does not allow (409).
type conflictErr struct{ detail string }

func (e conflictErr) Error() string { return e.detail }

// forbiddenErr is a request the caller's role or queues do not allow (403).
type forbiddenErr struct{ detail string }

func (e forbiddenErr) Error() string { return e.detail }

// errNeedsApproval: a collector's plan becomes a pending approval.
var errNeedsApproval = errors.New("needs approval")

var idemKeyRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)

// idemKeyOf is the request's Idempotency-Key header.
func idemKeyOf(r *http.Request) string { return r.Header.Get("Idempotency-Key") }

// writeRoute turns a spec into a route whose handler runs the write.
func (s *Server) writeRoute(sp writeSpec) route {
	return route{pattern: sp.pattern, min: sp.min, write: true, h: func(w http.ResponseWriter, r *http.Request) {
		s.serveWrite(w, r, sp)
	}}
}

// common checks every write makes before its body: the Idempotency-Key,
// ?wait and the account id. It answers 400 itself and returns false.
func (s *Server) common(w http.ResponseWriter, r *http.Request, account string) (wait time.Duration, ok bool) {
	var f fieldErrs
	if !idemKeyRE.MatchString(idemKeyOf(r)) {
		f.add("Idempotency-Key", "required: 1 to 128 printable ASCII characters")
	}
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > s.cfg.MaxWait {
			f.add("?wait", "a duration such as 5s, at most %s", s.cfg.MaxWait)
		}
		wait = d
	}
	if account != "" {
		if fe := checkAccountID(account); fe != nil {
			f = append(f, *fe)
		}
	}
	if len(f) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", f...)
		return 0, false
	}
	return wait, true
}

// serveWrite: decode, reserve the Idempotency-Key, load the account,
// validate and build the event, produce it, remember the answer, and
// answer (waiting for the processor with ?wait).
func (s *Server) serveWrite(w http.ResponseWriter, r *http.Request, sp writeSpec) {
	acct := r.PathValue("id")
	wait, ok := s.common(w, r, acct)
	if !ok {
		return
	}
	req := sp.newReq()
	if r.ContentLength != 0 && !s.decode(w, r, req) { // no body: every field empty
		return
	}
	c := &writeCall{s: s, r: r, p: principalOf(r), account: acct, scope: scopeHash(sp.pattern, acct, idemKeyOf(r))}
	if sp.entity != "" {
		c.entityID = sp.entity + "-" + c.scope[:20]
	}
	s.once(w, r, c.scope, bodyHash(req), wait, func() (writeResult, bool) { return s.runWrite(w, r, c, req) })
}

// decode reads the body strictly; it answers 400 or 413 itself.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, req any) bool {
	if err := decodeStrict(r, req); err != nil {
		var eb *errBody
		if errors.As(err, &eb) && eb.status == http.StatusRequestEntityTooLarge {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "Request body too large", "the limit is api.max_body_bytes")
			return false
		}
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", eb.fields...)
		return false
	}
	return true
}

// runWrite loads the account, builds the event and produces it; on a
// refusal it answers itself and returns false.
func (s *Server) runWrite(w http.ResponseWriter, r *http.Request, c *writeCall, req writeReq) (writeResult, bool) {
	l, err := s.deps.State.Account(r.Context(), c.account)
	if errors.Is(err, ErrUnknownAccount) {
		writeProblem(w, r, http.StatusNotFound, "Unknown account", "no state for this account")
		return writeResult{}, false
	}
	if err != nil {
		s.unavailable(w, r, "redis", err)
		return writeResult{}, false
	}
	c.loaded = l
	c.now = s.accountNow(l)
	var f fieldErrs
	body, err := req.build(c, &f)
	if len(f) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", f...)
		return writeResult{}, false
	}
	if errors.Is(err, errNeedsApproval) {
		return s.createApproval(w, r, c, body)
	}
	if !s.refused(w, r, err) {
		return writeResult{}, false
	}
	return s.publish(w, r, c.account, eventID(c.scope), c.entityID, c.now, body)
}

// accountNow is when the processor will apply an event on the account:
// the later of the wall clock and the partition clock, or the partition
// clock alone when the processor runs on simulated time (Deps.SimulatedTime:
// a replayed or generated book whose clock is far from the wall clock, which
// a wall-clock event would move by months). It is the event's time and the
// "today" the request is validated against.
func (s *Server) accountNow(l Loaded) time.Time {
	now := s.deps.Now().UTC()
	if s.deps.SimulatedTime && !l.Clock.IsZero() || l.Clock.After(now) {
		return l.Clock.UTC()
	}
	return now
}

// refused answers a build error (409, 403); true when there is none.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	var ce conflictErr
	var fe forbiddenErr
	switch {
	case err == nil:
		return true
	case errors.As(err, &ce):
		writeProblem(w, r, http.StatusConflict, "Conflict with the account's state", ce.detail)
	case errors.As(err, &fe):
		writeProblem(w, r, http.StatusForbidden, "Forbidden", fe.detail)
	default:
		s.unavailable(w, r, "state", err)
	}
	return false
}

// publish produces one event for the account with Source "api:<actor>".
func (s *Server) publish(w http.ResponseWriter, r *http.Request, account, id, entity string, at time.Time, body event.Body) (writeResult, bool) {
	ev := event.Event{ID: id, Time: at.Truncate(time.Millisecond), Source: "api:" + principalOf(r).Name, Account: account, Body: body}
	p, off, err := s.deps.Publisher.Publish(r.Context(), ev)
	if errors.Is(err, ErrRefused) {
		s.log.Warn("api: the codec refused an event the API validated", "kind", body.Kind().String(), "err", err)
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "the event would be refused by the processor's bounds")
		return writeResult{}, false
	}
	if err != nil {
		s.unavailable(w, r, "kafka", err)
		return writeResult{}, false
	}
	if a := auditOf(r); a != nil {
		a.eventID, a.detail = id, body.Kind().String()
	}
	return writeResult{EventID: id, AccountID: account, Kind: body.Kind().String(), ID: entity, Status: "accepted",
		Partition: &p, Offset: &off}, true
}

// answer writes a write's answer: 202, or with ?wait and an event the
// account view once the processor applied it (200), or 202 pending.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, res writeResult, wait time.Duration) {
	if a := auditOf(r); a != nil {
		a.eventID = res.EventID
		if a.detail == "" {
			a.detail = cmp.Or(res.Kind, res.Status)
		}
		if a.account == "" {
			a.account = res.AccountID
		}
	}
	status := http.StatusAccepted
	if res.Status == "rejected" {
		status = http.StatusOK
	}
	if wait > 0 && res.Partition != nil {
		view, applied, err := s.waitApplied(r.Context(), res.AccountID, *res.Partition, *res.Offset, wait)
		if err != nil {
			s.unavailable(w, r, "redis", err)
			return
		}
		pending := !applied
		res.Pending = &pending
		if applied {
			res.Account, status = view, http.StatusOK
		}
	}
	writeJSON(w, status, res)
}
