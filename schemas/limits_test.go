package schemas

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
	"github.com/arrears/arrears/processor/workload"
)

// jsonEvent is an Avro-JSON event with envelope fields overridable.
func jsonEvent(envelope, kind, body string) string {
	if envelope == "" {
		envelope = `"event_id":"e1","event_time":"2025-03-14T09:00:00Z","source":"s","account_id":"A1"`
	}
	return fmt.Sprintf(`{%s,"payload":{%q:{%s}}}`, envelope, kind, body)
}

// TestStrictDecoding: each hostile value of issue 11 is refused with the
// field named and its dead-letter code, in Avro JSON and in Avro binary.
func TestStrictDecoding(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	inv := func(cur, amt string) string {
		return fmt.Sprintf(`"invoice_id":"I1","currency":%q,"amount":%s,"issue_date":"2025-03-01","due_date":"2025-03-31"`, cur, amt)
	}
	for _, tc := range []struct {
		name, in, code, msg string
	}{
		{"comma decimal", jsonEvent("", "InvoiceIssued", inv("EUR", `"12,50"`)), CodeInvalidAmount, `payload.InvoiceIssued: field amount: "12,50" is not a decimal`},
		{"NaN", jsonEvent("", "InvoiceIssued", inv("EUR", `"NaN"`)), CodeInvalidAmount, "field amount"},
		{"exponent string", jsonEvent("", "InvoiceIssued", inv("EUR", `"1e3"`)), CodeInvalidAmount, "field amount"},
		{"exponent number", jsonEvent("", "InvoiceIssued", inv("EUR", `1e3`)), CodeInvalidAmount, "field amount"},
		{"cents of EUR", jsonEvent("", "InvoiceIssued", inv("EUR", `"12.505"`)), CodeInvalidAmount, "more than the 2 decimal places of EUR"},
		{"decimals of JPY", jsonEvent("", "InvoiceIssued", inv("JPY", `5.5`)), CodeInvalidAmount, "of JPY"},
		{"529 trillion", jsonEvent("", "PaymentReceived", `"payment_id":"P1","currency":"EUR","amount":"529000000000000"`), CodeInvalidAmount, "payload.PaymentReceived: field amount"},
		{"above max_amount", jsonEvent("", "PaymentReceived", `"payment_id":"P1","currency":"EUR","amount":"100000000000.01"`), CodeInvalidAmount, "payload.PaymentReceived: field amount: magnitude above max_amount"},
		{"beyond decimal(18,4)", jsonEvent("", "Refund", `"refund_id":"R1","currency":"EUR","amount":"900000000000000"`), CodeInvalidAmount, "does not fit decimal(18,4)"},
		{"ZZZ", jsonEvent("", "InvoiceIssued", inv("ZZZ", `1`)), CodeUnknownCurrency, `field currency: "ZZZ" is not an active ISO 4217`},
		{"XXX", jsonEvent("", "Refund", `"refund_id":"R1","currency":"XXX","amount":1`), CodeUnknownCurrency, "payload.Refund: field currency"},
		{"XTS", jsonEvent("", "Refund", `"refund_id":"R1","currency":"XTS","amount":1`), CodeUnknownCurrency, "field currency"},
		{"lower case", jsonEvent("", "Refund", `"refund_id":"R1","currency":"eur","amount":1`), CodeUnknownCurrency, "field currency"},
		{"payment in 1900", jsonEvent(`"event_id":"e1","event_time":"1900-01-01T00:00:00Z","source":"s","account_id":"A1"`,
			"PaymentReceived", `"payment_id":"P1","currency":"EUR","amount":1`), CodeInvalidTime, "field event_time: 1900-01-01T00:00:00Z is outside 2000-01-01..2100-01-01"},
		{"epoch millis 0", jsonEvent(`"event_id":"e1","event_time":0,"source":"s","account_id":"A1"`, "Release", `"hold_id":"H"`), CodeInvalidTime, "field event_time"},
		{"hold until 9999", jsonEvent("", "Hold", `"hold_id":"H1","until":"9999-12-31T00:00:00Z"`), CodeInvalidTime, "payload.Hold: field until"},
		{"due date 2200", jsonEvent("", "InvoiceIssued", `"invoice_id":"I1","currency":"EUR","amount":1,"issue_date":"2025-03-01","due_date":"2200-01-01"`), CodeInvalidTime, "field due_date"},
		{"unparsable time", jsonEvent(`"event_id":"e1","event_time":"yesterday","source":"s","account_id":"A1"`, "Release", `"hold_id":"H"`), CodeInvalidTime, "field event_time"},
		{"installment date", jsonEvent("", "ArrangementCreated", `"arrangement_id":"AR","type":"PROMISE","currency":"EUR","installments":[{"due_date":"1999-12-31","amount":1}]`),
			CodeInvalidTime, "payload.ArrangementCreated.installments[0]: field due_date"},
		{"installment cents", jsonEvent("", "ArrangementCreated", `"arrangement_id":"AR","type":"PROMISE","currency":"EUR","installments":[{"due_date":"2025-04-01","amount":1},{"due_date":"2025-05-01","amount":"0.001"}]`),
			CodeInvalidAmount, "payload.ArrangementCreated.installments[1]: field amount"},
		{"empty event_id", jsonEvent(`"event_id":"","event_time":"2025-03-14T09:00:00Z","source":"s","account_id":"A1"`, "Release", `"hold_id":"H"`), CodeInvalidID, "field event_id: empty id"},
		{"empty account", jsonEvent(`"event_id":"e","event_time":"2025-03-14T09:00:00Z","source":"s","account_id":""`, "Release", `"hold_id":"H"`), CodeInvalidID, "field account_id: empty id"},
		{"empty invoice id", jsonEvent("", "InvoiceCancelled", `"invoice_id":""`), CodeInvalidID, "payload.InvoiceCancelled: field invoice_id: empty id"},
		{"long payment id", jsonEvent("", "PaymentReversed", `"payment_id":"`+strings.Repeat("p", 129)+`"`), CodeInvalidID, "id of 129 bytes is longer than 128"},
		{"long invoice_ids item", jsonEvent("", "PaymentReceived", `"payment_id":"P","currency":"EUR","amount":1,"invoice_ids":["I1","`+strings.Repeat("i", 200)+`"]`), CodeInvalidID, "field invoice_ids[1]"},
		{"invalid UTF-8 id in JSON", jsonEvent("", "Release", "\"hold_id\":\"H\xff\xfe\""), CodeInvalidID, "payload.Release: field hold_id: id is not valid UTF-8"},
		{"invalid UTF-8 reason in JSON", jsonEvent("", "AccountClosed", "\"reason\":\"gone \xc3\""), CodeInvalidText, "payload.AccountClosed: field reason: not valid UTF-8"},
		{"invalid UTF-8 in an ignored field", jsonEvent("", "AccountClosed", "\"extra\":\"\xff\""), CodeMalformed, "JSON text is not valid UTF-8"},
		{"long reason", jsonEvent("", "AccountClosed", `"reason":"`+strings.Repeat("r", 1025)+`"`), CodeInvalidText, "field reason: 1025 bytes is longer than 1024"},
		{"Mars/Olympus", jsonEvent("", "AccountUpserted", `"segment":"prepaid","currency":"EUR","timezone":"Mars/Olympus"`), CodeInvalidTimezone, `payload.AccountUpserted: field timezone: "Mars/Olympus" is not an IANA time zone`},
		{"Local zone", jsonEvent("", "AccountUpserted", `"segment":"prepaid","currency":"EUR","timezone":"Local"`), CodeInvalidTimezone, "field timezone"},
		{"path as zone", jsonEvent("", "AccountUpserted", `"segment":"prepaid","currency":"EUR","timezone":"../../etc/passwd"`), CodeInvalidTimezone, "field timezone"},
		{"credit limit cents", jsonEvent("", "AccountUpserted", `"segment":"prepaid","currency":"EUR","credit_limit":"0.001"`), CodeInvalidAmount, "field credit_limit"},
		{"tick with account", jsonEvent(`"event_id":"t","event_time":"2025-03-14T09:00:00Z","source":"ticker","account_id":"A1"`, "ClockTick", `"partition":1`), CodeTickAccount, "field account_id: a ClockTick carries no account"},
		{"too many invoice ids", jsonEvent("", "PaymentReceived", `"payment_id":"P","currency":"EUR","amount":1,"invoice_ids":[`+strings.Repeat(`"I",`, 1000)+`"I"]`), CodeTooManyItems, "field invoice_ids: 1001 items, at most 1000"},
		{"unknown symbol", jsonEvent("", "AccountUpserted", `"segment":"gold","currency":"EUR"`), CodeInvalidField, `field segment: unknown symbol "gold"`},
		{"wrong type", jsonEvent("", "Release", `"hold_id":7`), CodeWrongType, "field hold_id has wrong type"},
		{"missing", jsonEvent("", "Release", ``), CodeMissingField, "missing required field hold_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DecodeEvent(ctx, []byte(tc.in))
			if err == nil {
				t.Fatalf("accepted %s", tc.in)
			}
			if got := Code(err); got != tc.code {
				t.Errorf("code %q, want %q (%v)", got, tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.msg)
			}
			if n := sentinels(err); n != 1 {
				t.Errorf("%v wraps %d sentinels, want exactly 1", err, n)
			}
		})
	}
}

// sentinels counts the package sentinels err wraps.
func sentinels(err error) int {
	n := 0
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			n++
		}
	}
	return n
}

// TestStrictBinary: the same checks hold for Avro binary, on the
// hand-written path and on goavro's (another writer schema).
func TestStrictBinary(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{KnownIDs: map[int]string{3: evolvedEventSchema(t)}})
	amt := event.MustAmount
	base := func(body event.Body) event.Event {
		return event.Event{ID: "e1", Time: t0, Source: "s", Account: "A1", Body: body}
	}
	for _, tc := range []struct {
		name  string
		ev    event.Event
		code  string
		field string
	}{
		{"sub-cent EUR", base(&event.InvoiceIssued{InvoiceID: "I", Currency: "EUR", Amount: amt("1.001"), IssueDate: d("2025-03-01"), DueDate: d("2025-03-02")}), CodeInvalidAmount, "payload.InvoiceIssued: field amount"},
		{"ZZZ", base(&event.Refund{RefundID: "R", Currency: "ZZZ", Amount: 1}), CodeUnknownCurrency, "payload.Refund: field currency"},
		{"529 trillion", base(&event.PaymentReceived{PaymentID: "P", Currency: "EUR", Amount: amt("529000000000000")}), CodeInvalidAmount, "field amount"},
		{"1900", event.Event{ID: "e1", Time: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), Source: "s", Account: "A1", Body: &event.Release{HoldID: "H"}}, CodeInvalidTime, "field event_time"},
		{"hold 9999", base(&event.Hold{HoldID: "H", Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}), CodeInvalidTime, "payload.Hold: field until"},
		{"invalid UTF-8 id", base(&event.InvoiceCancelled{InvoiceID: "I\xff"}), CodeInvalidID, "payload.InvoiceCancelled: field invoice_id: id is not valid UTF-8"},
		{"invalid UTF-8 account", event.Event{ID: "e1", Time: t0, Source: "s", Account: "A\xc3", Body: &event.Release{HoldID: "H"}}, CodeInvalidID, "field account_id"},
		{"empty event_id", event.Event{Time: t0, Source: "s", Account: "A1", Body: &event.Release{HoldID: "H"}}, CodeInvalidID, "field event_id"},
		{"Mars", base(&event.AccountUpserted{Segment: event.Prepaid, Currency: "EUR", Timezone: "Mars/Olympus"}), CodeInvalidTimezone, "field timezone"},
		{"tick with account", base(&event.ClockTick{Partition: 1}), CodeTickAccount, "field account_id"},
		{"too many installments", base(&event.ArrangementCreated{ArrangementID: "A", Type: event.InstallmentPlan, Currency: "EUR",
			Installments: make([]event.Installment, 1001)}), CodeTooManyItems, "payload.ArrangementCreated: field installments"},
	} {
		body := avroBody(t, tc.ev)
		for path, in := range map[string][]byte{"fast": soeFrame(EventSchema, body), "goavro": confluentFrame(3, append([]byte{0}, body...))} {
			_, err := c.DecodeEvent(ctx, in)
			if Code(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.field) || sentinels(err) != 1 {
				t.Errorf("%s (%s): %v (code %q), want %s naming %s", tc.name, path, err, Code(err), tc.code, tc.field)
			}
		}
	}
	// Good values at the edges pass: JPY without decimals, BHD with three,
	// the bounds themselves, a real zone.
	for _, ev := range []event.Event{
		base(&event.InvoiceIssued{InvoiceID: "I", Currency: "JPY", Amount: amt("500"), IssueDate: d("2000-01-01"), DueDate: d("2099-12-31")}),
		base(&event.Refund{RefundID: "R", Currency: "BHD", Amount: amt("1.234")}),
		base(&event.PaymentReceived{PaymentID: "P", Currency: "EUR", Amount: amt("100000000000")}),
		base(&event.AccountUpserted{Segment: event.Prepaid, Currency: "EUR", Timezone: "America/Argentina/Buenos_Aires"}),
		{ID: "e", Time: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Source: "ticker", Body: &event.ClockTick{Partition: -1}},
	} {
		if _, err := c.DecodeEvent(ctx, soeFrame(EventSchema, avroBody(t, ev))); err != nil {
			t.Errorf("%T refused: %v", ev.Body, err)
		}
	}
}

// TestLimitsConfig: the bounds are configurable and Validate names the key.
func TestLimitsConfig(t *testing.T) {
	ctx := context.Background()
	if max, _ := event.ParseAmount(DefaultMaxAmount); max != ledger.MaxAmount {
		t.Errorf("DefaultMaxAmount %s is not ledger.MaxAmount %s", max, event.Amount(ledger.MaxAmount))
	}
	c := newCodec(t, Config{MinTime: "2025-01-01", MaxTime: "2025-12-31T00:00:00Z", MaxAmount: "1000", MaxIDBytes: 4, MaxTextBytes: 8, MaxItems: 2})
	ev := event.Event{ID: "e1", Time: t0, Source: "s", Account: "A1", Body: &event.PaymentReceived{PaymentID: "P", Currency: "EUR", Amount: event.MustAmount("1000")}}
	if _, err := c.DecodeEvent(ctx, soeFrame(EventSchema, avroBody(t, ev))); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []event.Event{
		{ID: "e1", Time: t0.AddDate(-1, 0, 0), Source: "s", Account: "A1", Body: &event.Release{HoldID: "H"}},
		{ID: "e1", Time: t0, Source: "s", Account: "A1", Body: &event.PaymentReceived{PaymentID: "P", Currency: "EUR", Amount: event.MustAmount("1000.01")}},
		{ID: "e1", Time: t0, Source: "s", Account: "A1234", Body: &event.Release{HoldID: "H"}},
		{ID: "e1", Time: t0, Source: "source-99", Account: "A1", Body: &event.Release{HoldID: "H"}},
		{ID: "e1", Time: t0, Source: "s", Account: "A1", Body: &event.PaymentReceived{PaymentID: "P", Currency: "EUR", InvoiceIDs: []string{"a", "b", "c"}}},
	} {
		if _, err := c.DecodeEvent(ctx, soeFrame(EventSchema, avroBody(t, bad))); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	for key, cfg := range map[string]Config{
		"min_time":       {MinTime: "yesterday"},
		"max_time":       {MaxTime: "2100-13-01"},
		"is not before":  {MinTime: "2030-01-01", MaxTime: "2020-01-01"},
		"max_amount":     {MaxAmount: "100000000000000"},
		"max_amount ":    {MaxAmount: "-1"},
		"max_id_bytes":   {MaxIDBytes: -1},
		"max_text_bytes": {MaxTextBytes: -1},
		"max_items":      {MaxItems: -5},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), strings.TrimSpace(key)) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, key)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("other"), ""},
		{malformed("x"), CodeMalformed},
		{&UnknownSchemaError{ID: 4}, CodeUnknownSchema},
		{fmt.Errorf("decode: %w", &UnknownSchemaError{ID: 4}), CodeUnknownSchema},
		{fmt.Errorf("%w: x", ErrWrongSchema), CodeWrongSchema},
		{&FieldError{Field: "a", Err: ErrMissingField}, CodeMissingField},
		{&FieldError{Field: "a", Err: ErrWrongType}, CodeWrongType},
		{&FieldError{Field: "a", Err: ErrInvalidField}, CodeInvalidField},
		{fmt.Errorf("wrapped: %w", invalid("p", "a", CodeInvalidAmount, "x")), CodeInvalidAmount},
		{fmt.Errorf("%w: down", ErrRegistry), CodeRegistry},
		{fmt.Errorf("%w: nil", ErrEncode), CodeEncode},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if Transient(invalid("", "a", CodeInvalidID, "x")) || !Transient(fmt.Errorf("%w: x", ErrRegistry)) {
		t.Error("ErrRegistry must be the only transient error")
	}
}

// TestWorkloadDecodes: the generator behind gen, demo and bench writes only
// events the strict decoder accepts (whole cents, known zones), so none of
// its traffic is dead-lettered.
func TestWorkloadDecodes(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	g := workload.New(workload.Options{Seed: 7, Accounts: 500, Months: 2})
	n := 0
	for ev, ok := g.Next(); ok; ev, ok = g.Next() {
		n++
		b, err := c.EncodeEvent(ctx, "t", ev)
		if err == nil {
			_, err = c.DecodeEvent(ctx, b)
		}
		if err != nil {
			t.Fatalf("event %d (%s): %v", n, ev.Body.Kind(), err)
		}
	}
	if n < 1000 {
		t.Fatalf("only %d events generated", n)
	}
}
