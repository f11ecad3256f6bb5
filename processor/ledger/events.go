package ledger

import (
	"slices"

	"github.com/arrears/arrears/processor/event"
)

// Each handler validates everything first and returns a *RejectError before
// its first write, so a rejected event leaves the account untouched.

func checkAmount(what, id string, a event.Amount) error {
	if a <= 0 {
		return reject(ReasonNonPositiveAmount, "%s %s amount %s must be > 0", what, id, a)
	}
	if a > MaxAmount {
		return reject(ReasonAmountOutOfRange, "%s %s amount %s exceeds the maximum %s", what, id, a, event.Amount(MaxAmount))
	}
	return nil
}

func checkCurrency(what, id string, c event.Currency) error {
	if !c.Valid() {
		return reject(ReasonUnknownCurrency, "%s %s currency %q is not an ISO 4217 code", what, id, string(c))
	}
	return nil
}

func checkID(what, field, id string) error {
	if id == "" {
		return reject(ReasonInvalidField, "%s without %s", what, field)
	}
	return nil
}

func (r *Rules) issue(al *allocator, b *event.InvoiceIssued) error {
	a := al.a
	if err := checkID("invoice", "invoice_id", b.InvoiceID); err != nil {
		return err
	}
	if err := checkCurrency("invoice", b.InvoiceID, b.Currency); err != nil {
		return err
	}
	if err := checkAmount("invoice", b.InvoiceID, b.Amount); err != nil {
		return err
	}
	if b.IssueDate <= 0 || b.IssueDate > maxDate || b.DueDate < b.IssueDate || b.DueDate > maxDate {
		return reject(ReasonInvalidDates, "invoice %s issued %s due %s: due date must not precede the issue date, both after 1970-01-01",
			b.InvoiceID, b.IssueDate, b.DueDate)
	}
	if i := a.itemIndex(b.InvoiceID); i >= 0 {
		it := &a.items[i]
		if it.Currency != b.Currency || it.IssueDate != b.IssueDate || it.DueDate != b.DueDate ||
			(len(it.adj) == 0 && !it.Cancelled && it.Amount != b.Amount) {
			return reject(ReasonIDConflict, "invoice %s is held with other content (%s %s issued %s due %s)",
				b.InvoiceID, it.Amount, it.Currency, it.IssueDate, it.DueDate)
		}
		return al.duplicate()
	}
	if al.known(EntityInvoice, b.InvoiceID) || al.known(EntityCancelled, b.InvoiceID) {
		al.res.Duplicate = true // pruned: content no longer comparable
		return nil
	}
	if a.closed {
		return reject(ReasonClosedAccount, "invoice %s of %s %s on a closed account", b.InvoiceID, b.Amount, b.Currency)
	}
	if len(a.items) >= r.MaxItems {
		return reject(ReasonTooManyItems, "invoice %s: the account already holds %d items", b.InvoiceID, len(a.items))
	}
	al.begin(b.Currency)
	a.insertItem(Item{
		InvoiceID: b.InvoiceID, Currency: b.Currency, Amount: b.Amount, Open: b.Amount,
		IssueDate: b.IssueDate, DueDate: b.DueDate,
	})
	a.counters.InvoicesIssued = sat32(a.counters.InvoicesIssued)
	al.applyCredit(b.Currency)
	return nil
}

// lookItem finds the invoice an adjustment or dispute names and checks its
// currency and that it is not cancelled.
func lookItem(a *Account, what, id, invoice string, c event.Currency) (int, error) {
	i := a.itemIndex(invoice)
	if i < 0 {
		return -1, reject(ReasonUnknownInvoice, "%s %s names invoice %s, which the account does not hold", what, id, invoice)
	}
	it := &a.items[i]
	if c != it.Currency {
		return -1, reject(ReasonCurrencyMismatch, "%s %s is in %s but invoice %s is in %s", what, id, c, invoice, it.Currency)
	}
	if it.Cancelled {
		return -1, reject(ReasonInvoiceCancelled, "%s %s: invoice %s is cancelled", what, id, invoice)
	}
	return i, nil
}

func adjust(al *allocator, b *event.InvoiceAdjusted) error {
	a := al.a
	if err := checkID("adjustment", "adjustment_id", b.AdjustmentID); err != nil {
		return err
	}
	if err := checkID("adjustment "+b.AdjustmentID, "invoice_id", b.InvoiceID); err != nil {
		return err
	}
	if b.Type != event.Credit && b.Type != event.Debit {
		return reject(ReasonInvalidField, "adjustment %s has unknown type %d", b.AdjustmentID, b.Type)
	}
	if err := checkCurrency("adjustment", b.AdjustmentID, b.Currency); err != nil {
		return err
	}
	if err := checkAmount("adjustment", b.AdjustmentID, b.Amount); err != nil {
		return err
	}
	h := hashID(b.AdjustmentID)
	if j := a.adjIndex(h); j >= 0 {
		if a.items[j].InvoiceID != b.InvoiceID {
			return reject(ReasonIDConflict, "adjustment %s names invoice %s but was applied to invoice %s",
				b.AdjustmentID, b.InvoiceID, a.items[j].InvoiceID)
		}
		return al.duplicate()
	}
	if al.known(EntityAdjustment, b.AdjustmentID) {
		return al.duplicate()
	}
	i, err := lookItem(a, "adjustment", b.AdjustmentID, b.InvoiceID, b.Currency)
	if err != nil {
		return err
	}
	it := &a.items[i]
	if b.Type == event.Credit && b.Amount > it.Amount {
		return reject(ReasonCreditExceedsInvoice, "credit note %s of %s %s exceeds invoice %s's amount of %s",
			b.AdjustmentID, b.Amount, b.Currency, b.InvoiceID, it.Amount)
	}
	if b.Type == event.Debit && it.Amount+b.Amount > MaxAmount {
		return reject(ReasonAmountOutOfRange, "debit note %s takes invoice %s past the maximum %s",
			b.AdjustmentID, b.InvoiceID, event.Amount(MaxAmount))
	}
	al.begin(b.Currency)
	it.adj = append(it.adj, h)
	if b.Type == event.Credit {
		al.reduce(i, b.Amount)
		return nil
	}
	it.Amount += b.Amount
	it.Open += b.Amount
	it.Settled, it.SettledOn = false, 0
	al.applyCredit(b.Currency)
	return nil
}

func cancel(al *allocator, b *event.InvoiceCancelled) error {
	a := al.a
	if err := checkID("cancellation", "invoice_id", b.InvoiceID); err != nil {
		return err
	}
	i := a.itemIndex(b.InvoiceID)
	if i < 0 && al.known(EntityCancelled, b.InvoiceID) {
		return al.duplicate()
	}
	if i < 0 {
		return reject(ReasonUnknownInvoice, "cancellation names invoice %s, which the account does not hold", b.InvoiceID)
	}
	it := &a.items[i]
	if it.Cancelled {
		return al.duplicate()
	}
	al.begin(it.Currency)
	it.Cancelled = true
	for k := range it.Disputes { // moot now
		it.Disputes[k].Resolved = true
	}
	it.Disputed = 0
	al.reduce(i, it.Amount)
	it = &a.items[i]
	if !it.Settled {
		it.Settled, it.SettledOn = true, al.day
	}
	return nil
}

func (r *Rules) pay(al *allocator, b *event.PaymentReceived) error {
	a := al.a
	if err := checkID("payment", "payment_id", b.PaymentID); err != nil {
		return err
	}
	if err := checkCurrency("payment", b.PaymentID, b.Currency); err != nil {
		return err
	}
	if err := checkAmount("payment", b.PaymentID, b.Amount); err != nil {
		return err
	}
	if pi := a.payIndex(b.PaymentID); pi >= 0 {
		if p := &a.pays[pi]; p.cur != b.Currency || p.amount != b.Amount {
			return reject(ReasonIDConflict, "payment %s is held as %s %s", b.PaymentID, p.amount, p.cur)
		}
		return al.duplicate()
	}
	if al.known(EntityPayment, b.PaymentID) || al.known(EntityReversed, b.PaymentID) {
		return al.duplicate()
	}
	if a.closed {
		return reject(ReasonClosedAccount, "payment %s of %s %s on a closed account", b.PaymentID, b.Amount, b.Currency)
	}
	if len(a.pays) >= r.MaxPayments {
		return reject(ReasonTooManyItems, "payment %s: the account already holds %d payment records", b.PaymentID, len(a.pays))
	}
	if a.Unapplied(b.Currency)+b.Amount > maxCredit {
		return reject(ReasonAmountOutOfRange, "payment %s takes the unapplied credit in %s past the maximum", b.PaymentID, b.Currency)
	}
	al.begin(b.Currency)
	a.pays = append(a.pays, payment{id: b.PaymentID, cur: b.Currency, amount: b.Amount, day: al.day, unapplied: b.Amount})
	a.counters.Payments = sat32(a.counters.Payments)
	if al.day > a.counters.LastPayment {
		a.counters.LastPayment = al.day
	}
	al.payment(len(a.pays)-1, b.InvoiceIDs)
	return nil
}

// reversalItemID is the item a reversal of refunded cash leaves behind.
func reversalItemID(paymentID string) string { return "reversal:" + paymentID }

func (r *Rules) reversePayment(al *allocator, b *event.PaymentReversed) error {
	a := al.a
	if err := checkID("reversal", "payment_id", b.PaymentID); err != nil {
		return err
	}
	pi := a.payIndex(b.PaymentID)
	if pi < 0 && al.known(EntityReversed, b.PaymentID) {
		return al.duplicate()
	}
	if pi < 0 {
		return reject(ReasonUnknownPayment, "reversal of payment %s, which the account does not hold (never received, or older than the %d-day reversal window)",
			b.PaymentID, r.ReversalWindowDays)
	}
	p := &a.pays[pi]
	if p.reversed {
		return al.duplicate()
	}
	var debitID string
	if p.refunded > 0 {
		debitID = reversalItemID(p.id)
		if a.itemIndex(debitID) >= 0 {
			return reject(ReasonInvalidField, "reversal of payment %s: item id %s is taken", p.id, debitID)
		}
		if len(a.items) >= r.MaxItems {
			return reject(ReasonTooManyItems, "reversal of payment %s: the account already holds %d items", p.id, len(a.items))
		}
	}
	al.begin(p.cur)
	al.reverse(pi)
	p = &a.pays[pi]
	if debitID != "" {
		// The customer got this cash back by refund and the bank took it
		// back too: it is owed again, due at once.
		a.insertItem(Item{InvoiceID: debitID, Currency: p.cur, Amount: p.refunded, Open: p.refunded,
			IssueDate: al.day, DueDate: al.day})
		al.res.Reopened += p.refunded
	}
	a.counters.Reversals = sat32(a.counters.Reversals)
	a.counters.bump(rareReversal, al.day)
	al.applyCredit(p.cur)
	return nil
}

func refund(al *allocator, b *event.Refund) error {
	a := al.a
	if err := checkID("refund", "refund_id", b.RefundID); err != nil {
		return err
	}
	if err := checkCurrency("refund", b.RefundID, b.Currency); err != nil {
		return err
	}
	if err := checkAmount("refund", b.RefundID, b.Amount); err != nil {
		return err
	}
	if al.known(EntityRefund, b.RefundID) {
		return al.duplicate()
	}
	named := -1
	if b.PaymentID != "" {
		if named = a.payIndex(b.PaymentID); named < 0 {
			return reject(ReasonUnknownPayment, "refund %s names payment %s, which the account does not hold", b.RefundID, b.PaymentID)
		}
		if a.pays[named].cur != b.Currency {
			return reject(ReasonCurrencyMismatch, "refund %s is in %s but payment %s is in %s", b.RefundID, b.Currency, b.PaymentID, a.pays[named].cur)
		}
	}
	if avail := a.Unapplied(b.Currency); b.Amount > avail {
		return reject(ReasonRefundExceedsCredit, "refund %s of %s %s exceeds the unapplied credit of %s %s",
			b.RefundID, b.Amount, b.Currency, avail, b.Currency)
	}
	al.begin(b.Currency)
	left := b.Amount
	take := func(pi int) {
		p := &a.pays[pi]
		x := min(left, p.unapplied)
		p.unapplied -= x
		p.refunded += x
		left -= x
	}
	if named >= 0 {
		take(named)
	}
	if j := a.poolIndex(b.Currency); j >= 0 && left > 0 {
		x := min(left, a.pool[j].amt)
		a.addPool(b.Currency, -x)
		left -= x
	}
	for pi := 0; pi < len(a.pays) && left > 0; pi++ {
		if a.pays[pi].cur == b.Currency {
			take(pi)
		}
	}
	return nil
}

func upsert(al *allocator, b *event.AccountUpserted) error {
	a := al.a
	if b.Segment != "" && !b.Segment.Valid() {
		return reject(ReasonInvalidField, "account segment %q is not one of prepaid, postpaid, corporate, wholesale", string(b.Segment))
	}
	if b.Currency != "" && !b.Currency.Valid() {
		return reject(ReasonUnknownCurrency, "account currency %q is not an ISO 4217 code", string(b.Currency))
	}
	if b.CreditLimit < 0 || b.CreditLimit > MaxAmount {
		return reject(ReasonAmountOutOfRange, "account credit limit %s not in [0, %s]", b.CreditLimit, event.Amount(MaxAmount))
	}
	m := Master{
		Segment: b.Segment, ParentID: b.ParentID, CreditClass: b.CreditClass, Currency: b.Currency,
		Timezone: b.Timezone, CreditLimit: b.CreditLimit,
		Consents: slices.Clone(b.Consents), Exemptions: slices.Clone(b.Exemptions),
	}
	if len(m.Consents) == 0 {
		m.Consents = nil
	}
	if len(m.Exemptions) == 0 {
		m.Exemptions = nil
	}
	if a.known && a.master.equal(&m) {
		return nil // nothing changed
	}
	a.master, a.known = m, true
	al.res.Changed = true
	return nil
}

// findDispute returns the item and dispute index of a dispute id.
func (a *Account) findDispute(id string) (int, int) {
	for i := range a.items {
		for k := range a.items[i].Disputes {
			if a.items[i].Disputes[k].ID == id {
				return i, k
			}
		}
	}
	return -1, -1
}

func openDispute(al *allocator, b *event.DisputeOpened) error {
	a := al.a
	if err := checkID("dispute", "dispute_id", b.DisputeID); err != nil {
		return err
	}
	if err := checkID("dispute "+b.DisputeID, "invoice_id", b.InvoiceID); err != nil {
		return err
	}
	if err := checkCurrency("dispute", b.DisputeID, b.Currency); err != nil {
		return err
	}
	if err := checkAmount("dispute", b.DisputeID, b.Amount); err != nil {
		return err
	}
	if i, k := a.findDispute(b.DisputeID); i >= 0 {
		if d := a.items[i].Disputes[k]; a.items[i].InvoiceID != b.InvoiceID || d.Amount != b.Amount {
			return reject(ReasonIDConflict, "dispute %s is held on invoice %s for %s", b.DisputeID, a.items[i].InvoiceID, d.Amount)
		}
		return al.duplicate()
	}
	if al.known(EntityDispute, b.DisputeID) {
		return al.duplicate()
	}
	i, err := lookItem(a, "dispute", b.DisputeID, b.InvoiceID, b.Currency)
	if err != nil {
		return err
	}
	it := &a.items[i]
	if free := it.Open - it.disputedOpen(); b.Amount > free {
		return reject(ReasonDisputeExceedsOpen, "dispute %s of %s %s exceeds invoice %s's undisputed open amount of %s",
			b.DisputeID, b.Amount, b.Currency, b.InvoiceID, free)
	}
	al.begin(b.Currency)
	it.Disputes = append(it.Disputes, Dispute{ID: b.DisputeID, Amount: b.Amount})
	it.Disputed += b.Amount
	a.counters.DisputesOpened = sat32(a.counters.DisputesOpened)
	a.counters.bump(rareDispute, al.day)
	return nil
}

func resolveDispute(al *allocator, b *event.DisputeResolved) error {
	a := al.a
	if err := checkID("dispute resolution", "dispute_id", b.DisputeID); err != nil {
		return err
	}
	if b.Outcome != event.Upheld && b.Outcome != event.Rejected && b.Outcome != event.Withdrawn {
		return reject(ReasonInvalidField, "dispute %s resolved with unknown outcome %d", b.DisputeID, b.Outcome)
	}
	if b.CreditAmount < 0 {
		return reject(ReasonNonPositiveAmount, "dispute %s credit amount %s must not be negative", b.DisputeID, b.CreditAmount)
	}
	i, k := a.findDispute(b.DisputeID)
	if i < 0 && al.known(EntityDispute, b.DisputeID) {
		al.res.Duplicate = true // pruned, so it was resolved
		return nil
	}
	if i < 0 {
		return reject(ReasonUnknownDispute, "resolution of dispute %s, which was never opened on the account", b.DisputeID)
	}
	it := &a.items[i]
	if it.Disputes[k].Resolved {
		return al.duplicate()
	}
	credit := event.Amount(0)
	if b.Outcome == event.Upheld {
		credit = b.CreditAmount
	}
	if credit > it.Amount {
		return reject(ReasonCreditExceedsInvoice, "dispute %s credit of %s %s exceeds invoice %s's amount of %s",
			b.DisputeID, credit, it.Currency, it.InvoiceID, it.Amount)
	}
	al.begin(it.Currency)
	it.Disputes[k].Resolved = true
	it.Disputed -= it.Disputes[k].Amount
	if credit > 0 {
		al.reduce(i, credit)
	}
	return nil
}
