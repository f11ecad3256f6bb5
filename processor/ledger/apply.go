package ledger

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Result says what one Apply did, so dunning and risk know what to do.
type Result struct {
	// Kind is the event's kind.
	Kind event.Kind
	// Duplicate: the event was applied before (its event id was accepted
	// within Rules.DedupeDays, or it repeats an entity id the account
	// knows with the same content); nothing changed.
	Duplicate bool
	// Changed: the account changed and must be stored (and its status
	// emitted). An accepted event with an id always changes the account
	// (its id is remembered). False for duplicates, id-less no-ops and
	// kinds the ledger does not handle (arrangements, holds, clock ticks:
	// dunning's business).
	Changed bool
	// Currency is the currency the event moved money in ("" for master data).
	Currency event.Currency
	// OpenBefore and OpenAfter are the open amount in Currency around the event.
	OpenBefore, OpenAfter event.Amount
	// UnappliedBefore and UnappliedAfter are the unapplied credit in Currency
	// around the event.
	UnappliedBefore, UnappliedAfter event.Amount
	// Settled is the amount payments and credit settled on items.
	Settled event.Amount
	// Reopened is the amount a reversal re-opened (the debit left by a
	// reversal of refunded cash included).
	Reopened event.Amount
	// PaidInvoices lists the invoices a payment or credit settled in full
	// (nil when none; allocated only then).
	PaidInvoices []string
	// UnknownInvoices lists the invoice ids a payment named that the
	// account does not hold (nil when none); the payment's cash went oldest
	// due first instead, and Counters.UnknownInvoiceRefs counts them.
	UnknownInvoices []string
}

// FullyPaid reports that Currency had an open amount before the event and
// has none after it (dunning clears the stage and restores service).
func (r *Result) FullyPaid() bool { return r.OpenBefore > 0 && r.OpenAfter == 0 }

// Apply applies ev to acc at partition time now with the default Rules.
func Apply(acc *Account, ev event.Event, now time.Time) (Result, error) {
	r := DefaultRules()
	return r.Apply(acc, ev, now)
}

// Apply applies ev to acc at partition time now.
//
// Every event is validated against the account before anything changes, so
// on error (always a *RejectError) acc is exactly as it was. A repeated
// event returns a Result with Duplicate set and no error. Kinds the ledger
// does not handle return a zero-change Result.
//
// Dates: the event's day (dateOf(ev.Time), now when ev.Time is zero)
// dates payments, settlements and counters; now's day drives pruning and
// MaxDaysPastDue.
func (r *Rules) Apply(acc *Account, ev event.Event, now time.Time) (Result, error) {
	rules := r.withDefaults()
	res := Result{}
	if ev.Body == nil {
		return res, reject(ReasonInvalidField, "event %s has no body", ev.ID)
	}
	res.Kind = ev.Body.Kind()
	switch res.Kind {
	case event.KindInvoiceIssued, event.KindInvoiceAdjusted, event.KindInvoiceCancelled,
		event.KindPaymentReceived, event.KindPaymentReversed, event.KindRefund,
		event.KindAccountUpserted, event.KindAccountClosed, event.KindAccountReopened,
		event.KindDisputeOpened, event.KindDisputeResolved:
	default:
		return res, nil
	}
	today := dateOf(now)
	if rules.SeenEvent(acc, ev.ID, now) {
		res.Duplicate = true
		return res, nil
	}
	if rules.RequireAccount && !acc.known && res.Kind != event.KindAccountUpserted {
		return Result{Kind: res.Kind}, reject(ReasonUnknownAccount,
			"%s %s for an account without master data (AccountUpserted required first)", res.Kind, ev.ID)
	}
	day := dateOf(now)
	if !ev.Time.IsZero() {
		day = dateOf(ev.Time)
	}
	al := allocator{a: acc, day: day, res: &res, goneCut: today - event.Date(rules.TombstoneDays)}
	var err error
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		err = rules.issue(&al, b)
	case *event.InvoiceAdjusted:
		err = adjust(&al, b)
	case *event.InvoiceCancelled:
		err = cancel(&al, b)
	case *event.PaymentReceived:
		err = rules.pay(&al, b)
	case *event.PaymentReversed:
		err = rules.reversePayment(&al, b)
	case *event.Refund:
		err = refund(&al, b)
	case *event.AccountUpserted:
		err = upsert(&al, b)
	case *event.AccountClosed:
		if acc.closed {
			res.Duplicate = true
		} else {
			acc.closed = true
			res.Changed = true
		}
	case *event.AccountReopened:
		if acc.closed {
			acc.closed = false
			res.Changed = true
		}
	case *event.DisputeOpened:
		err = openDispute(&al, b)
	case *event.DisputeResolved:
		err = resolveDispute(&al, b)
	}
	if err != nil {
		return Result{Kind: res.Kind}, err
	}
	if res.Duplicate {
		return res, nil
	}
	if ev.ID != "" {
		// Accepted: the id is remembered even when nothing else changed, so
		// a later copy with another payload is still a duplicate.
		acc.events = logAdd(acc.events, hashID(ev.ID), today)
		res.Changed = true
	}
	if !res.Changed {
		return res, nil
	}
	if rf, ok := ev.Body.(*event.Refund); ok {
		acc.RememberEntity(EntityRefund, rf.RefundID, today)
	}
	if acc.counters.FirstSeen == 0 || day < acc.counters.FirstSeen {
		acc.counters.FirstSeen = day
	}
	acc.Observe(now)
	acc.prune(today, &rules)
	acc.pruneLogs(today, &rules)
	if res.Currency != "" {
		res.OpenAfter = acc.openIn(res.Currency)
		res.UnappliedAfter = acc.Unapplied(res.Currency)
	}
	return res, nil
}

// begin records the "before" figures of a money event in c.
func (al *allocator) begin(c event.Currency) {
	al.res.Currency = c
	al.res.OpenBefore = al.a.openIn(c)
	al.res.UnappliedBefore = al.a.Unapplied(c)
	al.res.Changed = true
}
