package dunning

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// actionID is the deterministic id of an action: a hash of the account,
// policy version, episode, stage (or a label such as "restore" or
// "arrangement:<id>"), action index and scheduled instant.
func actionID(account, policyVersion string, episode uint32, stage string, index int, at time.Time) string {
	return digest([]string{account, policyVersion, stage}, uint64(episode), uint64(index), uint64(at.UnixMilli()))
}

// digest is 32 hex digits of SHA-256 over the strings, each prefixed by its
// length, then the numbers, all big-endian uint64: the deterministic ids of
// actions and entries (unchanged: ids stay stable).
func digest(strs []string, nums ...uint64) string {
	var stack [256]byte
	b := stack[:0]
	for _, s := range strs {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, n := range nums {
		b = binary.BigEndian.AppendUint64(b, n)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (e *evaluator) policyRef() string {
	if e.ref == "" {
		e.ref = e.pol.Name + "@" + e.pol.Version
	}
	return e.ref
}

// action builds an action with the account's current facts.
func (e *evaluator) action(stage string, index int, at time.Time, t event.ActionType, conds []event.Condition, reason string) event.DunningAction {
	a := event.DunningAction{
		ActionID:      actionID(e.in.Account, e.pol.Version, e.st.Episode, stage, index, at),
		Account:       e.in.Account,
		Time:          e.now,
		PolicyName:    e.pol.Name,
		PolicyVersion: e.pol.Version,
		Stage:         stage,
		Type:          t,
		Currency:      e.cur,
		OverdueAmount: e.overdue.get(e.cur),
		DaysPastDue:   int32(e.dpd),
		Reason:        reason,
		Conditions:    conds,
	}
	if len(e.items) > 0 {
		a.OldestDueDate = e.oldest
		a.Invoices = make([]string, len(e.items))
		for i, it := range e.items {
			a.Invoices[i] = it.InvoiceID
		}
	}
	return a
}

func (e *evaluator) emit(a event.DunningAction) { e.d.Actions = append(e.d.Actions, a) }

// oldestIn is the oldest overdue invoice in currency c ("" if none).
func (e *evaluator) oldestIn(c event.Currency) string {
	for _, it := range e.items {
		if it.Currency == c && !e.groupItem(it) { // group.go: a child's dues are not the top's invoices
			return it.InvoiceID
		}
	}
	return ""
}

// fee charges a dunning fee: an action, a GL entry and a debit note on the
// oldest overdue invoice in the fee's currency.
func (e *evaluator) fee(s *policy.Stage, j int, conds []event.Condition, reason string) {
	pa := &s.Actions[j]
	inv := e.oldestIn(pa.Currency)
	if inv == "" {
		e.note("fee %s %s of stage %s skipped: nothing overdue in %s", pa.Amount, pa.Currency, s.Name, pa.Currency)
		return
	}
	a := e.action(s.Name, j, e.now, event.ActionFee, conds, reason)
	a.Currency, a.Amount, a.OverdueAmount = pa.Currency, pa.Amount, e.overdue.get(pa.Currency)
	e.emit(a)
	e.charge(charge{id: a.ActionID, kind: "FEE", cur: pa.Currency, amt: pa.Amount, credit: e.pol.GL.FeeIncome,
		desc: fmt.Sprintf("dunning fee, policy %s stage %s", e.policyRef(), s.Name), inv: inv})
}

// writeOff writes off the overdue amount in the dunning currency: an action
// listing the invoices and a GL entry. Closing the items is the ledger's
// job when the processor applies the action.
func (e *evaluator) writeOff(s *policy.Stage, j int, conds []event.Condition, reason string) {
	amt := e.overdue.get(e.cur)
	a := e.action(s.Name, j, e.now, event.ActionWriteOff, conds, reason)
	a.Invoices = a.Invoices[:0]
	for _, it := range e.items {
		if it.Currency == e.cur {
			if e.groupItem(it) { // group.go: the top writes off its own items only
				amt -= it.Open
				continue
			}
			a.Invoices = append(a.Invoices, it.InvoiceID)
		}
	}
	a.Amount = amt
	e.emit(a)
	e.d.GL = append(e.d.GL, event.GLEntry{
		EntryID: "gl-" + a.ActionID, Account: e.in.Account, Time: e.now, Kind: "WRITE_OFF",
		Currency: e.cur, Amount: amt,
		DebitAccount: e.pol.GL.BadDebt, CreditAccount: e.pol.GL.Receivables,
		Reference:   a.ActionID,
		Description: fmt.Sprintf("write-off, policy %s stage %s, %d invoices", e.policyRef(), s.Name, len(a.Invoices)),
	})
}
