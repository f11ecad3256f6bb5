package dunning

import (
	"fmt"
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// financeVersion is the first byte of an encoded Finance.
const financeVersion = 1

// Finance encoding (version 1): a version byte, a presence byte (1
// placement, 2 legal case), the placement (agency, currency, placed,
// since, recovered, commission, ended, outcome), the legal case (referred,
// case id, reference, status, currency, awarded, agreed, closed), the
// accrual's through, posted and due-for dates and the month end
// provisioned for, the accruals (currency, due, open, invoice), the
// provisions (currency, amount) and, with presence bit 4, the payments
// attributed to the agency (payment, recovered, commission). Instants are absolute Unix ms, dates day numbers. The
// core stores it as an optional fourth part of the account state, so
// accounts without finance state encode as before.

// MarshalBinary encodes f (nil: no bytes).
func (f *Finance) MarshalBinary() ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	return f.AppendBinary(make([]byte, 0, 48))
}

// AppendBinary appends MarshalBinary's encoding to b (f nil: nothing).
func (f *Finance) AppendBinary(b []byte) ([]byte, error) {
	if f == nil {
		return b, nil
	}
	w := writer{b: b}
	w.b = append(w.b, financeVersion)
	has := byte(0)
	if f.Placement != nil {
		has |= 1
	}
	if f.Legal != nil {
		has |= 2
	}
	if f.Placement != nil && len(f.Placement.Payments) > 0 {
		has |= 4
	}
	w.b = append(w.b, has)
	if p := f.Placement; p != nil {
		w.str(p.Agency)
		w.amount(p.Currency, p.Placed)
		w.abs(p.Since)
		w.varint(int64(p.Recovered))
		w.varint(int64(p.Commission))
		w.abs(p.Ended)
		w.b = append(w.b, byte(p.Outcome))
	}
	if c := f.Legal; c != nil {
		w.abs(c.Referred)
		w.str(c.CaseID)
		w.str(c.Reference)
		w.b = append(w.b, byte(c.Status))
		w.str(string(c.Currency))
		w.varint(int64(c.Awarded))
		w.varint(int64(c.Agreed))
		w.abs(c.Closed)
	}
	in := &f.Interest
	for _, d := range []event.Date{in.Through, in.Posted, in.DueFor, f.ProvisionedFor} {
		w.varint(int64(d))
	}
	each(&w, in.Accruals, func(a Accrual) {
		w.str(string(a.Currency))
		w.varint(a.Due)
		w.varint(a.Open)
		w.str(a.InvoiceID)
	})
	each(&w, f.Provisions, func(p Provision) { w.amount(p.Currency, p.Amount) })
	if has&4 != 0 {
		each(&w, f.Placement.Payments, func(x AgencyPayment) {
			w.str(x.PaymentID)
			w.varint(int64(x.Recovered))
			w.varint(int64(x.Commission))
		})
	}
	return w.b, nil
}

func (w *writer) abs(t time.Time) {
	if t.IsZero() {
		w.varint(0)
		return
	}
	w.varint(t.UnixMilli())
}

// DecodeFinance decodes what (*Finance).MarshalBinary produced (empty:
// nil). Every list is bounded by maxList and the bytes left.
func DecodeFinance(data []byte) (*Finance, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] != financeVersion {
		return nil, fmt.Errorf("decode finance state: version %d: %w", data[0], ErrStateVersion)
	}
	r := reader{Reader: varint.NewReader(data[1:])}
	f := &Finance{}
	has := r.Byte("finance presence")
	if has&1 != 0 {
		f.Placement = &Placement{Agency: r.Str("agency"), Currency: event.Currency(r.Str("placement currency")),
			Placed: r.amount("placed"), Since: r.abs("placed since"), Recovered: r.amount("recovered"),
			Commission: r.amount("commission"), Ended: r.abs("placement ended"), Outcome: event.AgencyOutcome(r.Byte("outcome"))}
	}
	if has&2 != 0 {
		f.Legal = &LegalCase{Referred: r.abs("referred"), CaseID: r.Str("case id"), Reference: r.Str("case reference"),
			Status: event.LegalStatus(r.Byte("case status")), Currency: event.Currency(r.Str("case currency")),
			Awarded: r.amount("awarded"), Agreed: r.amount("agreed"), Closed: r.abs("case closed")}
	}
	day := func(what string) event.Date { return event.Date(r.Int(what, math.MinInt32, math.MaxInt32)) }
	f.Interest.Through, f.Interest.Posted, f.Interest.DueFor = day("accrued through"), day("posted"), day("due for")
	f.ProvisionedFor = day("provisioned for")
	for i, c := 0, r.count("accruals"); i < c; i++ {
		f.Interest.Accruals = append(f.Interest.Accruals, Accrual{Currency: event.Currency(r.Str("accrual currency")),
			Due: r.Int("accrual due", 0, math.MaxInt64), Open: r.Int("accrual open", 0, math.MaxInt64), InvoiceID: r.Str("accrual invoice")})
	}
	for i, c := 0, r.count("provisions"); i < c; i++ {
		f.Provisions = append(f.Provisions, Provision{Currency: event.Currency(r.Str("provision currency")), Amount: r.amount("provision")})
	}
	if has&4 != 0 {
		if f.Placement == nil {
			r.Fail("finance presence")
		}
		for i, c := 0, r.count("agency payments"); i < c && f.Placement != nil; i++ {
			f.Placement.Payments = append(f.Placement.Payments, AgencyPayment{PaymentID: r.Str("agency payment"),
				Recovered: r.amount("agency recovered"), Commission: r.amount("agency commission")})
		}
	}
	r.End()
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("decode finance state: %w: %w", ErrStateCorrupt, err)
	}
	return f, nil
}

func (r *reader) abs(what string) time.Time {
	ms := r.Int(what, -maxMillis, maxMillis)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
