package dunning

import "github.com/arrears/arrears/processor/event"

// The write-off lifecycle. A WRITE_OFF action closes the overdue invoices
// of its currency with credit notes (the core applies them and records
// each through NoteWriteOff). From then on the account is written off for
// as long as any written-off amount is unrecovered:
//
//   - nothing is dunned: no stage, no contact, no fee, and service is not
//     restored (the episode stays open at its last stage), whatever event
//     arrives: an AccountUpserted, a new invoice, a timer;
//   - a payment recovers written-off amounts of its currency, oldest first,
//     up to the cash it left unapplied (cash the ledger used for invoices
//     issued since is not a recovery): each recovered amount is reinstated
//     on its invoice by a debit note, which that cash then settles (so it
//     does not stay customer credit), and booked as a GL entry
//     BAD_DEBT_RECOVERY (debit receivables, credit gl.bad_debt_recovery, or
//     gl.bad_debt when unset: the write-off's expense is reversed);
//   - a reversal of a recovering payment writes its recovered amounts off
//     again: credit notes close what the reversal re-opened, and a GL entry
//     RECOVERY_REVERSED takes the recovery back;
//   - once everything is recovered the account is dunned as any other: with
//     nothing overdue the episode ends and a cut service is restored.
//
// Recoveries remembers at most maxRecoveries payment parts (the oldest are
// forgotten: a reversal of one of those re-opens its invoices as ordinary
// overdue items).

// WrittenOff is an amount a write-off took off an invoice.
type WrittenOff struct {
	InvoiceID string
	Currency  event.Currency
	Amount    event.Amount
}

// Recovery is an amount a payment recovered on a written-off invoice.
type Recovery struct {
	PaymentID string
	WrittenOff
}

const maxRecoveries = 32

// NoteWriteOff records that a write-off took amt in cur off invoice inv.
// The core calls it for every credit note it applied for a WRITE_OFF
// action; the state is returned, s is not modified.
func (s State) NoteWriteOff(inv string, cur event.Currency, amt event.Amount) State {
	if amt <= 0 {
		return s
	}
	c := s.clone()
	c.addWrittenOff(inv, cur, amt)
	return c
}

func (s *State) addWrittenOff(inv string, cur event.Currency, amt event.Amount) {
	for i := range s.WrittenOff {
		if w := &s.WrittenOff[i]; w.InvoiceID == inv && w.Currency == cur {
			w.Amount += amt
			return
		}
	}
	s.WrittenOff = append(s.WrittenOff, WrittenOff{InvoiceID: inv, Currency: cur, Amount: amt})
}

// IsWrittenOff reports whether any written-off amount is unrecovered.
func (s State) IsWrittenOff() bool { return len(s.WrittenOff) > 0 }

// writtenOff runs the lifecycle above for the triggering event and reports
// whether the account is (still) written off, in which case nothing else is
// decided.
func (e *evaluator) writtenOff() bool {
	t := e.in.Trigger
	switch t.Kind {
	case event.KindPaymentReceived:
		if len(e.st.WrittenOff) > 0 {
			e.recover(t)
		}
	case event.KindPaymentReversed:
		e.unrecover(t)
	}
	if len(e.st.WrittenOff) == 0 {
		return false
	}
	var left amounts
	for _, w := range e.st.WrittenOff {
		left.add(w.Currency, w.Amount)
	}
	for _, l := range left {
		e.note("written off: %s %s unrecovered, nothing is dunned and service stays %s", l.Amount, l.Currency, e.st.Service)
	}
	return true
}

// recover books what payment t recovers.
func (e *evaluator) recover(t Trigger) {
	cash := min(t.Amount, e.in.Unapplied)
	keep := e.st.WrittenOff[:0]
	for _, w := range e.st.WrittenOff {
		if w.Currency != t.Currency || cash <= 0 {
			keep = append(keep, w)
			continue
		}
		amt := min(cash, w.Amount)
		cash -= amt
		id := entryID(e.in.Account, "recovery", t.EventID, w.InvoiceID)
		desc := "recovery after write-off, policy " + e.policyRef() + ", invoice " + w.InvoiceID + ", payment " + t.PaymentID
		note, entry := noteIDs("rec-", id)
		e.d.DebitNotes = append(e.d.DebitNotes, event.InvoiceAdjusted{
			AdjustmentID: note, InvoiceID: w.InvoiceID, Type: event.Debit, Currency: w.Currency, Amount: amt, Reason: desc,
		})
		e.d.GL = append(e.d.GL, event.GLEntry{
			EntryID: entry, Account: e.in.Account, Time: e.now, Kind: "BAD_DEBT_RECOVERY",
			Currency: w.Currency, Amount: amt,
			DebitAccount: e.pol.GL.Receivables, CreditAccount: e.pol.GL.RecoveryAccount(),
			Reference: t.PaymentID, Description: desc, InvoiceID: w.InvoiceID,
		})
		if len(e.st.Recoveries) >= maxRecoveries {
			e.st.Recoveries = e.st.Recoveries[1:]
		}
		e.st.Recoveries = append(e.st.Recoveries, Recovery{PaymentID: t.PaymentID, WrittenOff: WrittenOff{w.InvoiceID, w.Currency, amt}})
		e.note("payment %s recovered %s %s written off on invoice %s", t.PaymentID, amt, w.Currency, w.InvoiceID)
		if w.Amount -= amt; w.Amount > 0 {
			keep = append(keep, w)
		}
	}
	e.st.WrittenOff = keep
	if len(keep) == 0 {
		e.note("write-off recovered in full: the account is dunned again")
	}
}

// unrecover writes off again what reversed payment t had recovered.
func (e *evaluator) unrecover(t Trigger) {
	keep := e.st.Recoveries[:0]
	for _, r := range e.st.Recoveries {
		if r.PaymentID != t.PaymentID || t.PaymentID == "" {
			keep = append(keep, r)
			continue
		}
		id := entryID(e.in.Account, "recovery reversed", t.EventID, r.InvoiceID)
		desc := "recovery reversed, policy " + e.policyRef() + ", invoice " + r.InvoiceID + ", payment " + r.PaymentID
		e.d.CreditNotes = append(e.d.CreditNotes, event.InvoiceAdjusted{
			AdjustmentID: "unrec-" + id, InvoiceID: r.InvoiceID, Type: event.Credit, Currency: r.Currency, Amount: r.Amount, Reason: desc,
		})
		e.d.GL = append(e.d.GL, event.GLEntry{
			EntryID: "gl-" + id, Account: e.in.Account, Time: e.now, Kind: "RECOVERY_REVERSED",
			Currency: r.Currency, Amount: r.Amount,
			DebitAccount: e.pol.GL.RecoveryAccount(), CreditAccount: e.pol.GL.Receivables,
			Reference: r.PaymentID, Description: desc,
		})
		e.st.addWrittenOff(r.InvoiceID, r.Currency, r.Amount)
		e.note("payment %s reversed: %s %s on invoice %s written off again", r.PaymentID, r.Amount, r.Currency, r.InvoiceID)
	}
	e.st.Recoveries = keep
}

// entryID is the deterministic id of an entry a decision books.
func entryID(fields ...string) string { return digest(fields) }
