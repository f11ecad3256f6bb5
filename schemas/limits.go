package schemas

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones resolve on images without /usr/share/zoneinfo
	"unicode/utf8"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
)

// goavro's own bounds. Its defaults (MaxInt32) let a forged block count
// preallocate 32 GB ([]any of 2^31-1) from a 26-byte record, a fatal out of
// memory no recover catches. With these a forged count costs at most
// 1 MiB before the read fails for want of bytes; no array of an owned
// schema comes near 65536 items in one block (our encoders write one block
// per array and events are bounded by max_items).
const (
	maxAvroBlockCount = 1 << 16
	maxAvroBlockSize  = 1 << 24
)

func init() {
	goavro.MaxBlockCount = maxAvroBlockCount
	goavro.MaxBlockSize = maxAvroBlockSize
}

// limits are Config's event bounds, parsed once by New.
type limits struct {
	minTime, maxTime time.Time
	minDate, maxDate event.Date
	maxAmount        event.Amount
	maxID, maxText   int
	maxItems         int
}

// limits parses the bounds of a Config whose defaults are applied.
func (c Config) limits() (limits, error) {
	l := limits{maxID: c.MaxIDBytes, maxText: c.MaxTextBytes, maxItems: c.MaxItems}
	var err error
	if l.minTime, err = parseBound(c.MinTime); err != nil {
		return l, fmt.Errorf("schemas: min_time: %w", err)
	}
	if l.maxTime, err = parseBound(c.MaxTime); err != nil {
		return l, fmt.Errorf("schemas: max_time: %w", err)
	}
	if !l.minTime.Before(l.maxTime) {
		return l, fmt.Errorf("schemas: min_time %s is not before max_time %s", c.MinTime, c.MaxTime)
	}
	l.minDate, l.maxDate = event.DateOf(l.minTime), event.DateOf(l.maxTime)
	if l.maxAmount, err = event.ParseAmount(c.MaxAmount); err != nil || l.maxAmount <= 0 || l.maxAmount > event.MaxDecimal {
		return l, fmt.Errorf("schemas: max_amount %q: want a positive decimal up to %s", c.MaxAmount, event.MaxDecimal)
	}
	for _, b := range []struct {
		key string
		v   int
	}{{"max_id_bytes", l.maxID}, {"max_text_bytes", l.maxText}, {"max_items", l.maxItems}} {
		if b.v < 0 {
			return l, fmt.Errorf("schemas: %s %d is negative", b.key, b.v)
		}
	}
	return l, nil
}

// parseBound reads RFC 3339 or YYYY-MM-DD (midnight UTC).
func parseBound(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := event.ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or YYYY-MM-DD", s)
	}
	return d.Time(), nil
}

// zoneCache remembers the time zone names that resolved. Only valid names
// are kept, so it is bounded by the IANA database (about 600 names)
// whatever the input.
type zoneCache struct{ ok sync.Map }

func (z *zoneCache) valid(name string) bool {
	if _, ok := z.ok.Load(name); ok {
		return true
	}
	if name == "Local" || !zoneName(name) {
		return false
	}
	if _, err := time.LoadLocation(name); err != nil {
		return false
	}
	z.ok.Store(name, struct{}{})
	return true
}

// zoneName: only the characters of IANA names, so nothing path-like
// reaches LoadLocation.
func zoneName(s string) bool {
	if s == "" || strings.Contains(s, "..") || s[0] == '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '_', c == '-', c == '+':
		default:
			return false
		}
	}
	return true
}

// checker validates one decoded event against the limits, field by field.
// Like fields, the first problem sticks. Both decoding paths (hand-written
// and goavro/JSON) end here, so they accept exactly the same events.
type checker struct {
	l     *limits
	zones *zoneCache
	path  string
	// replaced: the JSON text was not valid UTF-8 and encoding/json has
	// replaced the bad bytes with U+FFFD, so a U+FFFD is a bad byte.
	replaced bool
	err      *FieldError
}

func (k *checker) fail(field, code, format string, args ...any) {
	if k.err == nil {
		k.err = invalid(k.path, field, code, format, args...)
	}
}

// utf8 reports whether s is valid UTF-8 (as it was on the wire).
func (k *checker) utf8(s string) bool {
	return utf8.ValidString(s) && !(k.replaced && strings.ContainsRune(s, utf8.RuneError))
}

// id checks a required id: non-empty, UTF-8, at most max_id_bytes.
func (k *checker) id(field, s string) {
	if s == "" {
		k.fail(field, CodeInvalidID, "empty id")
		return
	}
	k.optID(field, s)
}

func (k *checker) optID(field, s string) {
	switch {
	case !k.utf8(s):
		k.fail(field, CodeInvalidID, "id is not valid UTF-8")
	case len(s) > k.l.maxID:
		k.fail(field, CodeInvalidID, "id of %d bytes is longer than %d", len(s), k.l.maxID)
	}
}

// text checks free text or a code: UTF-8, at most max_text_bytes.
func (k *checker) text(field, s string) {
	switch {
	case !k.utf8(s):
		k.fail(field, CodeInvalidText, "not valid UTF-8")
	case len(s) > k.l.maxText:
		k.fail(field, CodeInvalidText, "%d bytes is longer than %d", len(s), k.l.maxText)
	}
}

func (k *checker) currency(field string, c event.Currency) (minor int, ok bool) {
	if minor, ok = c.MinorUnits(); ok {
		return minor, true
	}
	if len(c) > 8 || !k.utf8(string(c)) {
		k.fail(field, CodeUnknownCurrency, "not an active ISO 4217 currency code")
	} else {
		k.fail(field, CodeUnknownCurrency, "%q is not an active ISO 4217 currency code", string(c))
	}
	return 0, false
}

// amount checks the bound and, for minor >= 0, the currency's minor units.
func (k *checker) amount(field string, a event.Amount, c event.Currency, minor int) {
	if a > k.l.maxAmount || a < -k.l.maxAmount {
		k.fail(field, CodeInvalidAmount, "magnitude above max_amount %s", k.l.maxAmount)
		return
	}
	if minor >= 0 && minor < event.Scale && a%minorStep[minor] != 0 {
		k.fail(field, CodeInvalidAmount, "%s has more than the %d decimal places of %s", a, minor, c)
	}
}

// minorStep[n] is the Amount of one minor unit of a currency with n.
var minorStep = [event.Scale]event.Amount{10000, 1000, 100, 10}

func (k *checker) instant(field string, t time.Time) {
	if t.Before(k.l.minTime) || !t.Before(k.l.maxTime) {
		k.fail(field, CodeInvalidTime, "%s is outside %s..%s", t.UTC().Format(time.RFC3339),
			k.l.minTime.Format(time.DateOnly), k.l.maxTime.Format(time.DateOnly))
	}
}

func (k *checker) date(field string, d event.Date) {
	if d < k.l.minDate || d >= k.l.maxDate {
		k.fail(field, CodeInvalidTime, "%s is outside %s..%s", d, k.l.minDate, k.l.maxDate)
	}
}

func (k *checker) items(field string, n int) {
	if n > k.l.maxItems {
		k.fail(field, CodeTooManyItems, "%d items, at most %d", n, k.l.maxItems)
	}
}

func (k *checker) timezone(field, tz string) {
	k.text(field, tz)
	if k.err == nil && tz != "" && !k.zones.valid(tz) {
		k.fail(field, CodeInvalidTimezone, "%q is not an IANA time zone", tz)
	}
}

// checkEvent validates a decoded event; see Config for the bounds.
func (k *checker) checkEvent(ev *event.Event) error {
	k.id("event_id", ev.ID)
	k.instant("event_time", ev.Time)
	k.text("source", ev.Source)
	if k.err != nil {
		return k.err
	}
	if ev.Body.Kind() == event.KindClockTick {
		if ev.Account != "" {
			k.fail("account_id", CodeTickAccount, "a ClockTick carries no account")
		}
	} else {
		k.id("account_id", ev.Account)
	}
	if k.err != nil {
		return k.err
	}
	k.path = payloadPaths[ev.Body.Kind()]
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		k.id("invoice_id", b.InvoiceID)
		k.money(b.Currency, "amount", b.Amount)
		k.date("issue_date", b.IssueDate)
		k.date("due_date", b.DueDate)
		k.text("bill_cycle", b.BillCycle)
	case *event.InvoiceAdjusted:
		k.id("adjustment_id", b.AdjustmentID)
		k.id("invoice_id", b.InvoiceID)
		k.money(b.Currency, "amount", b.Amount)
		k.text("reason", b.Reason)
	case *event.InvoiceCancelled:
		k.id("invoice_id", b.InvoiceID)
		k.text("reason", b.Reason)
	case *event.PaymentReceived:
		k.id("payment_id", b.PaymentID)
		k.money(b.Currency, "amount", b.Amount)
		k.text("method", b.Method)
		k.items("invoice_ids", len(b.InvoiceIDs))
		k.each(len(b.InvoiceIDs), "invoice_ids", func(i int) { k.id("invoice_ids", b.InvoiceIDs[i]) })
	case *event.PaymentReversed:
		k.id("payment_id", b.PaymentID)
		k.text("reason", b.Reason)
	case *event.Refund:
		k.id("refund_id", b.RefundID)
		k.money(b.Currency, "amount", b.Amount)
		k.optID("payment_id", b.PaymentID)
	case *event.AccountUpserted:
		k.optID("parent_id", b.ParentID)
		k.text("credit_class", b.CreditClass)
		k.money(b.Currency, "credit_limit", b.CreditLimit)
		k.timezone("timezone", b.Timezone)
		k.items("consents", len(b.Consents))
		k.items("exemptions", len(b.Exemptions))
		k.each(len(b.Exemptions), "exemptions", func(i int) { k.text("exemptions", b.Exemptions[i]) })
	case *event.AccountClosed:
		k.text("reason", b.Reason)
	case *event.AccountReopened:
		k.text("reason", b.Reason)
	case *event.DisputeOpened:
		k.id("dispute_id", b.DisputeID)
		k.id("invoice_id", b.InvoiceID)
		k.money(b.Currency, "amount", b.Amount)
		k.text("reason", b.Reason)
	case *event.DisputeResolved:
		k.id("dispute_id", b.DisputeID)
		k.amount("credit_amount", b.CreditAmount, "", -1) // its currency is the disputed invoice's
	case *event.ArrangementCreated:
		k.id("arrangement_id", b.ArrangementID)
		minor, ok := k.currency("currency", b.Currency)
		if !ok {
			minor = -1
		}
		k.items("installments", len(b.Installments))
		k.each(len(b.Installments), "installments", func(i int) {
			k.date("due_date", b.Installments[i].DueDate)
			k.amount("amount", b.Installments[i].Amount, b.Currency, minor)
		})
	case *event.ArrangementCancelled:
		k.id("arrangement_id", b.ArrangementID)
		k.text("reason", b.Reason)
	case *event.Hold:
		k.id("hold_id", b.HoldID)
		k.instant("until", b.Until)
		k.text("reason", b.Reason)
	case *event.Release:
		k.id("hold_id", b.HoldID)
	case *event.ClockTick:
		if b.Partition < -1 {
			k.fail("partition", CodeInvalidField, "partition %d (want >= 0, or -1 when unknown)", b.Partition)
		}
	default:
		k.checkOperator(ev.Body)
	}
	if k.err != nil {
		return k.err
	}
	return nil
}

// payloadPaths is "payload.<Kind>" per kind, so checking allocates nothing.
var payloadPaths = func() []string {
	ps := make([]string, len(event.Kinds())+1)
	for _, kind := range event.Kinds() {
		ps[kind] = "payload." + kind.String()
	}
	return ps
}()

// each checks n array items with check(i); a failure names the item:
// field "invoice_ids[3]" for an array of strings, path
// "payload.ArrangementCreated.installments[1]" for an array of records.
// Names are only formatted on failure.
func (k *checker) each(n int, array string, check func(i int)) {
	for i := 0; i < n && k.err == nil; i++ {
		check(i)
		if k.err == nil {
			continue
		}
		if k.err.Field == array {
			k.err.Field = fmt.Sprintf("%s[%d]", array, i)
		} else {
			k.err.Path = fmt.Sprintf("%s.%s[%d]", k.err.Path, array, i)
		}
	}
}

// money checks a currency and an amount in it.
func (k *checker) money(c event.Currency, field string, a event.Amount) {
	if minor, ok := k.currency("currency", c); ok {
		k.amount(field, a, c, minor)
	}
}
