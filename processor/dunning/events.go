package dunning

import (
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// ApplyEvent records the events dunning owns: ArrangementCreated and
// ArrangementCancelled, Hold and Release, and DisputeResolved (a rejected
// dispute starts the policy's dispute grace). Every other kind is returned
// unchanged with a nil error, so the processor may pass every event. Call
// Evaluate after it: that is where the consequences (restoring service for
// a new plan, resuming escalation) are decided. On error the returned state
// is st unchanged. pol may be nil (no dispute grace then). Holds and
// arrangements are bounded by the default Limits (Limits.ApplyEvent for
// others).
//
// A repeat of the active arrangement (same id) with the same content is a
// no-op; with other content it is ErrArrangementConflict.
func ApplyEvent(st State, ev event.Event, pol *policy.Policy, now time.Time) (State, error) {
	return Limits{}.ApplyEvent(st, ev, pol, now)
}

func applyEvent(st State, ev event.Event, pol *policy.Policy, now time.Time) (State, error) {
	now = norm(now)
	switch b := ev.Body.(type) {
	case *event.ArrangementCreated:
		if err := checkArrangement(b); err != nil {
			return st, fmt.Errorf("arrangement %q of event %s: %w", b.ArrangementID, ev.ID, err)
		}
		if st.Arrangement != nil && st.Arrangement.ID == b.ArrangementID {
			if !sameArrangement(st.Arrangement, b) {
				return st, fmt.Errorf("arrangement %q of event %s differs from the active one: %w", b.ArrangementID, ev.ID, ErrArrangementConflict)
			}
			return st, nil // a repeat
		}
		n := st.clone()
		n.Arrangement = &Arrangement{
			ID:           b.ArrangementID,
			Type:         b.Type,
			Currency:     b.Currency,
			Created:      now,
			Installments: append([]event.Installment(nil), b.Installments...),
		}
		// The customer agreed to pay: contacts still waiting are moot.
		n.Deferred = nil
		return n, nil
	case *event.ArrangementCancelled:
		if st.Arrangement == nil || st.Arrangement.ID != b.ArrangementID {
			return st, fmt.Errorf("cancel arrangement %q of event %s: %w", b.ArrangementID, ev.ID, ErrUnknownArrangement)
		}
		n := st.clone()
		n.Arrangement = nil
		return n, nil
	case *event.Hold:
		if b.HoldID == "" {
			return st, fmt.Errorf("hold of event %s: no hold id: %w", ev.ID, ErrInvalidHold)
		}
		n := st.clone()
		until := norm(b.Until)
		for i := range n.Holds {
			if n.Holds[i].ID == b.HoldID {
				n.Holds[i].Until = until
				return n, nil
			}
		}
		n.Holds = append(n.Holds, Hold{ID: b.HoldID, Until: until})
		return n, nil
	case *event.Release:
		for i := range st.Holds {
			if st.Holds[i].ID == b.HoldID {
				n := st.clone()
				n.Holds = append(n.Holds[:i], n.Holds[i+1:]...)
				return n, nil
			}
		}
		return st, fmt.Errorf("release hold %q of event %s: %w", b.HoldID, ev.ID, ErrUnknownHold)
	case *event.DisputeResolved:
		if b.Outcome != event.Rejected || pol == nil || pol.Disputes.GraceDays == 0 {
			return st, nil
		}
		n := st.clone()
		until := now.Add(time.Duration(pol.Disputes.GraceDays) * 24 * time.Hour)
		if until.After(n.DisputeGraceUntil) {
			n.DisputeGraceUntil = until
		}
		return n, nil
	}
	return st, nil
}

func checkArrangement(b *event.ArrangementCreated) error {
	switch {
	case b.ArrangementID == "":
		return fmt.Errorf("no arrangement id: %w", ErrInvalidArrangement)
	case b.Type != event.Promise && b.Type != event.InstallmentPlan:
		return fmt.Errorf("type %d: %w", b.Type, ErrInvalidArrangement)
	case !b.Currency.Valid():
		return fmt.Errorf("currency %q: %w", b.Currency, ErrInvalidArrangement)
	case len(b.Installments) == 0:
		return fmt.Errorf("%d installments: %w", len(b.Installments), ErrInvalidArrangement)
	}
	for i, in := range b.Installments {
		if in.Amount <= 0 {
			return fmt.Errorf("installment %d amount %s: %w", i+1, in.Amount, ErrInvalidArrangement)
		}
		if i > 0 && in.DueDate < b.Installments[i-1].DueDate {
			return fmt.Errorf("installment %d due %s before the previous one: %w", i+1, in.DueDate, ErrInvalidArrangement)
		}
	}
	return nil
}

// norm drops what the binary state cannot keep (sub-millisecond precision,
// location, monotonic reading), so a state decoded from storage behaves
// exactly like the one that was encoded.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}
