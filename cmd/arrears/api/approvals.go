package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/processor/event"
)

// Approvals. A collector's installment plan is not an event yet: it is
// kept as a pending approval in Redis, under the API's key prefix
// (KeyPrefix:{approvals}:<id> holds the JSON record, KeyPrefix:{approvals}:
// pending indexes the pending ones by time; one hash slot, so the two
// change together on a Redis Cluster too). Redis rather than ClickHouse:
// an approval changes state (pending -> approved | rejected) and two
// supervisors must not both approve one, which needs a compare-and-set;
// ClickHouse has no transactions. Records are kept approvalTTL after
// their last change; the audit table keeps who did what for good.
// Approving produces the ArrangementCreated the collector asked for, with
// an event id derived from the approval (not from the approver's key), so
// however many approvals race, the ledger sees one event.

// approvalTTL is how long an approval record is kept.
const approvalTTL = 30 * 24 * time.Hour

// Approval is a collector's plan waiting for a supervisor.
type Approval struct {
	ID            string      `json:"approval_id"`
	AccountID     string      `json:"account_id"`
	Kind          string      `json:"kind"`
	ArrangementID string      `json:"arrangement_id"`
	Request       PlanRequest `json:"request"`
	RequestedBy   string      `json:"requested_by"`
	RequestedAt   time.Time   `json:"requested_at"`
	Status        string      `json:"status"`
	DecidedBy     string      `json:"decided_by,omitempty"`
	DecidedAt     *time.Time  `json:"decided_at,omitempty"`
	EventID       string      `json:"event_id,omitempty"`
	Reason        string      `json:"reason,omitempty"`
}

// PlanRequest is the plan a collector asked for (the body of POST
// /accounts/{id}/plans, normalised).
type PlanRequest struct {
	Currency     string              `json:"currency"`
	Installments []InstallmentAmount `json:"installments"`
}

// InstallmentAmount is one installment as JSON.
type InstallmentAmount struct {
	Date   string `json:"date"`
	Amount string `json:"amount"`
}

func (s *Server) approvalKey(id string) string { return s.cfg.KeyPrefix + ":{approvals}:" + id }
func (s *Server) pendingKey() string           { return s.cfg.KeyPrefix + ":{approvals}:pending" }

func (s *Server) approvalRoutes() []route {
	return []route{
		{"POST /approvals/{approval_id}/approve", RoleSupervisor, true, s.approve},
		{"POST /approvals/{approval_id}/reject", RoleSupervisor, true, s.reject},
	}
}

// createApproval stores a collector's plan as pending.
func (s *Server) createApproval(w http.ResponseWriter, r *http.Request, c *writeCall, body event.Body) (writeResult, bool) {
	b := body.(*event.ArrangementCreated)
	a := Approval{ID: "apr-" + c.scope[:20], AccountID: c.account, Kind: b.Kind().String(), ArrangementID: b.ArrangementID,
		Request: PlanRequest{Currency: string(b.Currency)}, RequestedBy: c.p.Name, RequestedAt: s.deps.Now().UTC().Truncate(time.Second), Status: "pending"}
	for _, in := range b.Installments {
		a.Request.Installments = append(a.Request.Installments, InstallmentAmount{in.DueDate.String(), in.Amount.String()})
	}
	v, _ := json.Marshal(a)
	_, err := s.deps.Redis.TxPipelined(r.Context(), func(p redis.Pipeliner) error {
		p.Set(r.Context(), s.approvalKey(a.ID), v, approvalTTL)
		p.ZAdd(r.Context(), s.pendingKey(), redis.Z{Score: float64(a.RequestedAt.UnixMilli()), Member: a.ID})
		return nil
	})
	if err != nil {
		s.unavailable(w, r, "redis", err)
		return writeResult{}, false
	}
	if au := auditOf(r); au != nil {
		au.detail = "pending_approval"
	}
	return writeResult{AccountID: c.account, Kind: a.Kind, ID: a.ArrangementID, Status: "pending_approval", ApprovalID: a.ID}, true
}

// loadApproval reads one approval (nil when there is none).
func (s *Server) loadApproval(ctx context.Context, id string) (*Approval, error) {
	v, err := s.deps.Redis.Get(ctx, s.approvalKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis approval: %w", err)
	}
	var a Approval
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("approval record: %w", err)
	}
	return &a, nil
}

// decide moves an approval from pending to status, atomically (WATCH):
// false when it was no longer pending.
func (s *Server) decide(ctx context.Context, id string, change func(a *Approval)) (bool, error) {
	ok := false
	err := s.deps.Redis.Watch(ctx, func(tx *redis.Tx) error {
		v, err := tx.Get(ctx, s.approvalKey(id)).Bytes()
		if err != nil {
			return err
		}
		var a Approval
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.Status != "pending" {
			return nil
		}
		change(&a)
		nv, _ := json.Marshal(a)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.approvalKey(id), nv, approvalTTL)
			if a.Status != "pending" {
				p.ZRem(ctx, s.pendingKey(), id)
			} else {
				p.ZAdd(ctx, s.pendingKey(), redis.Z{Score: float64(a.RequestedAt.UnixMilli()), Member: id})
			}
			return nil
		})
		ok = err == nil
		return err
	}, s.approvalKey(id))
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil
	}
	return ok, err
}

type approveReq struct {
	Reason string `json:"reason"`
}

// approve: POST /approvals/{approval_id}/approve publishes the plan.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) { s.serveDecision(w, r, true) }

// reject: POST /approvals/{approval_id}/reject {reason}.
func (s *Server) reject(w http.ResponseWriter, r *http.Request) { s.serveDecision(w, r, false) }

func (s *Server) serveDecision(w http.ResponseWriter, r *http.Request, approve bool) {
	wait, ok := s.common(w, r, "")
	if !ok {
		return
	}
	var q approveReq
	if r.ContentLength != 0 && !s.decode(w, r, &q) {
		return
	}
	var f fieldErrs
	id := f.id("approval_id", r.PathValue("approval_id"), true)
	f.text("reason", q.Reason, !approve, maxReasonBytes)
	if len(f) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", f...)
		return
	}
	s.once(w, r, scopeHash(r.Pattern, id, idemKeyOf(r)), bodyHash(q), wait, func() (writeResult, bool) {
		return s.runDecision(w, r, id, q.Reason, approve)
	})
}

func (s *Server) runDecision(w http.ResponseWriter, r *http.Request, id, reason string, approve bool) (writeResult, bool) {
	a, err := s.loadApproval(r.Context(), id)
	if err != nil {
		s.unavailable(w, r, "redis", err)
		return writeResult{}, false
	}
	if a == nil {
		writeProblem(w, r, http.StatusNotFound, "Unknown approval", "no approval with this id")
		return writeResult{}, false
	}
	if au := auditOf(r); au != nil {
		au.account = a.AccountID
	}
	if a.Status != "pending" {
		writeProblem(w, r, http.StatusConflict, "Conflict with the approval's state", "the approval is already "+a.Status)
		return writeResult{}, false
	}
	me, now := principalOf(r).Name, s.deps.Now().UTC().Truncate(time.Second)
	mark := func(status, evID string) func(*Approval) {
		return func(x *Approval) {
			x.Status, x.DecidedBy, x.DecidedAt, x.Reason, x.EventID = status, me, &now, reason, evID
		}
	}
	if !approve {
		ok, err := s.decide(r.Context(), id, mark("rejected", ""))
		if !s.decided(w, r, ok, err) {
			return writeResult{}, false
		}
		if au := auditOf(r); au != nil {
			au.detail = "rejected"
		}
		return writeResult{AccountID: a.AccountID, Kind: a.Kind, ID: a.ArrangementID, Status: "rejected", ApprovalID: id}, true
	}
	body, at, err := s.approvedEvent(r.Context(), a)
	if !s.refused(w, r, err) {
		return writeResult{}, false
	}
	evID := eventID(scopeHash("approve", id, ""))
	ok, err := s.decide(r.Context(), id, mark("approved", evID))
	if !s.decided(w, r, ok, err) {
		return writeResult{}, false
	}
	res, ok := s.publish(w, r, a.AccountID, evID, a.ArrangementID, at, body)
	if !ok { // back to pending: the plan was not published
		if _, err := s.decide(r.Context(), id, func(x *Approval) { x.Status, x.DecidedBy, x.DecidedAt, x.EventID = "pending", "", nil, "" }); err != nil {
			s.log.Warn("api: approval left approved after a failed produce", "err", err)
		}
		return writeResult{}, false
	}
	res.ApprovalID = id
	return res, true
}

// decided answers a lost race (409) or a Redis failure; true when the
// decision was recorded.
func (s *Server) decided(w http.ResponseWriter, r *http.Request, ok bool, err error) bool {
	switch {
	case err != nil:
		s.unavailable(w, r, "redis", err)
	case !ok:
		writeProblem(w, r, http.StatusConflict, "Conflict with the approval's state", "the approval was decided by someone else meanwhile")
	}
	return err == nil && ok
}

// approvedEvent rebuilds the plan's event and checks it against the
// account as it is now (an arrangement may have started meanwhile: 409).
func (s *Server) approvedEvent(ctx context.Context, a *Approval) (event.Body, time.Time, error) {
	l, err := s.deps.State.Account(ctx, a.AccountID)
	if errors.Is(err, ErrUnknownAccount) {
		return nil, time.Time{}, conflictErr{"the account has no state any more"}
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	b := &event.ArrangementCreated{ArrangementID: a.ArrangementID, Type: event.InstallmentPlan, Currency: event.Currency(a.Request.Currency)}
	for _, in := range a.Request.Installments {
		d, _ := event.ParseDate(in.Date)
		amt, _ := event.ParseAmount(in.Amount)
		b.Installments = append(b.Installments, event.Installment{DueDate: d, Amount: amt})
	}
	c := &writeCall{s: s, loaded: l, now: s.accountNow(l)}
	if len(b.Installments) > 0 && b.Installments[0].DueDate < c.today() {
		return nil, c.now, conflictErr{"the plan's first installment is in the past now; the collector must propose it again"}
	}
	return b, c.now, c.arrangementAllowed(b.Currency)
}

// listApprovals: GET /approvals?status=pending, oldest first.
func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	if st := r.URL.Query().Get("status"); st != "" && st != "pending" {
		writeProblem(w, r, http.StatusBadRequest, "Invalid request", "", FieldError{"?status", "only pending is listed"})
		return
	}
	ids, err := s.deps.Redis.ZRange(r.Context(), s.pendingKey(), 0, 999).Result()
	if err != nil {
		s.unavailable(w, r, "redis", err)
		return
	}
	items := []Approval{}
	for _, id := range ids {
		a, err := s.loadApproval(r.Context(), id)
		if err != nil {
			s.unavailable(w, r, "redis", err)
			return
		}
		if a != nil && a.Status == "pending" {
			items = append(items, *a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
