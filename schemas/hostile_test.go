package schemas

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

var updateHostile = flag.Bool("update-hostile", false, "rewrite the corpus in ../testdata/hostile/")

// hostileDir is the corpus of bad records of issue 11 (top-level testdata,
// shared with the processor's integration test that replays it).
const hostileDir = "../testdata/hostile"

// hostileRecord is one line of testdata/hostile/manifest.json.
type hostileRecord struct {
	// File holds the raw record value (.json: Avro JSON, .bin: bytes).
	File string `json:"file"`
	// Topic is "events" (the input) or "status" (the changelog).
	Topic string `json:"topic"`
	// Key is the Kafka key; null for none. The account is Key's unless
	// the record is about the key.
	Key *string `json:"key"`
	// Code is the expected DeadLetter.Code; "" when the record must be
	// accepted or ignored without a dead letter (see What).
	Code string `json:"code"`
	// By is who refuses it: schemas (the decoder), processor or ledger.
	By string `json:"by"`
	// Prelude lists good records (files under good/, same key) to
	// produce first.
	Prelude []string `json:"prelude,omitempty"`
	What    string   `json:"what"`
}

// TestHostileCorpus: every corpus record the decoder is responsible for
// gets its expected Code from DecodeEvent (or DecodeStatus), and every
// other one decodes, so that the processor or the ledger is the one to
// judge it. Run with -update-hostile to regenerate the corpus.
func TestHostileCorpus(t *testing.T) {
	if *updateHostile {
		writeHostile(t)
	}
	raw, err := os.ReadFile(filepath.Join(hostileDir, "manifest.json"))
	if err != nil {
		t.Fatalf("%v (go test ./schemas -run TestHostileCorpus -update-hostile)", err)
	}
	var recs []hostileRecord
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) < 45 {
		t.Errorf("%d records, want at least 45", len(recs))
	}
	c := newCodec(t, Config{KnownIDs: map[int]string{1: EventSchema}})
	ctx := context.Background()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(hostileDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, r := range recs {
		for _, p := range r.Prelude {
			if _, err := c.DecodeEvent(ctx, read(p)); err != nil {
				t.Errorf("%s: prelude %s: %v", r.File, p, err)
			}
		}
		var err error
		if r.Topic == "status" {
			_, err = c.DecodeStatus(ctx, read(r.File))
		} else {
			_, err = c.DecodeEvent(ctx, read(r.File))
		}
		switch {
		case r.By == "schemas" && (r.Code == "" || Code(err) != r.Code):
			t.Errorf("%s: %v (code %q), want %q", r.File, err, Code(err), r.Code)
		case r.By != "schemas" && err != nil:
			t.Errorf("%s is for the %s to refuse, but does not decode: %v", r.File, r.By, err)
		}
	}
}

// writeHostile writes the corpus: files and manifest.
func writeHostile(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	c := newCodec(t, Config{})
	const at = `"2026-11-20T10:00:00Z"`
	var recs []hostileRecord
	n := 0
	write := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(hostileDir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(hostileDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// add records one bad value for a fresh account H-<n>.
	add := func(by, code, file, what string, value func(acct string) []byte, prelude ...func(acct string) []byte) {
		n++
		acct := fmt.Sprintf("H-%02d", n)
		key := acct
		r := hostileRecord{File: fmt.Sprintf("%02d-%s", n, file), Topic: "events", Key: &key, Code: code, By: by, What: what}
		for i, p := range prelude {
			name := fmt.Sprintf("good/%02d-%d.json", n, i+1)
			write(name, p(acct))
			r.Prelude = append(r.Prelude, name)
		}
		write(r.File, value(acct))
		recs = append(recs, r)
	}
	js := func(envelope func(acct string) string, kind, body string) func(string) []byte {
		return func(acct string) []byte {
			return fmt.Appendf(nil, `{%s,"payload":{%q:{%s}}}`+"\n", envelope(acct), kind, body)
		}
	}
	envAt := func(id, when string) func(string) string {
		return func(acct string) string {
			return fmt.Sprintf(`"event_id":"%s-%s","event_time":%s,"source":"billing","account_id":%q`, acct, id, when, acct)
		}
	}
	std := envAt("e1", at)
	inv := func(cur, amt string) string {
		return fmt.Sprintf(`"invoice_id":"INV-1","currency":%q,"amount":%s,"issue_date":"2026-11-01","due_date":"2026-11-30"`, cur, amt)
	}
	pay := func(cur, amt string) string {
		return fmt.Sprintf(`"payment_id":"PAY-1","currency":%q,"amount":%s`, cur, amt)
	}
	upsert := js(envAt("up", at), "AccountUpserted", `"segment":"postpaid","currency":"EUR","timezone":"Europe/Berlin"`)
	bin := func(ev func(acct string) event.Event) func(string) []byte {
		return func(acct string) []byte {
			b, err := c.EncodeEvent(ctx, "ar.events", ev(acct))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	evAt := func(acct string, body event.Body) event.Event {
		return event.Event{ID: acct + "-e1", Time: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), Source: "billing", Account: acct, Body: body}
	}
	raw := func(b []byte) func(string) []byte { return func(string) []byte { return b } }

	// Money.
	add("schemas", CodeInvalidAmount, "amount-comma.json", `amount "12,50" (was read as Avro bytes: 21,129,515.5504)`, js(std, "InvoiceIssued", inv("EUR", `"12,50"`)))
	add("schemas", CodeInvalidAmount, "amount-nan.json", `amount "NaN" (was 513.6718)`, js(std, "PaymentReceived", pay("EUR", `"NaN"`)))
	add("schemas", CodeInvalidAmount, "amount-exponent-string.json", `amount "1e3" (was 323.7171)`, js(std, "PaymentReceived", pay("EUR", `"1e3"`)))
	add("schemas", CodeInvalidAmount, "amount-exponent-number.json", "amount 1e3 as a JSON number", js(std, "PaymentReceived", pay("EUR", `1e3`)))
	add("schemas", CodeInvalidAmount, "amount-sub-cent.json", "12.505 EUR: more decimals than EUR's 2", js(std, "InvoiceIssued", inv("EUR", `"12.505"`)))
	add("schemas", CodeInvalidAmount, "amount-jpy-decimals.json", "5.5 JPY: JPY has no minor units", js(std, "InvoiceIssued", inv("JPY", `5.5`)))
	add("schemas", CodeInvalidAmount, "amount-529-trillion.json", "529 trillion: beyond decimal(18,4); broke every report in ClickHouse", js(std, "PaymentReceived", pay("EUR", `"529000000000000"`)))
	add("schemas", CodeInvalidAmount, "amount-above-max.json", "just above max_amount (10^11)", js(std, "InvoiceIssued", inv("EUR", `"100000000000.01"`)))
	add("schemas", CodeInvalidAmount, "amount-avro-bytes.json", "amount in the standard Avro-JSON bytes form (ambiguous, refused)", js(std, "InvoiceIssued", inv("EUR", `"\u0001\u00e8H"`)))
	add("schemas", CodeInvalidAmount, "amount-sub-cent.bin", "Avro binary 1.001 EUR", bin(func(a string) event.Event {
		return evAt(a, &event.PaymentReceived{PaymentID: "PAY-1", Currency: "EUR", Amount: event.MustAmount("1.001")})
	}))
	add("schemas", CodeInvalidAmount, "decimal-9-bytes.bin", "Avro binary decimal of 9 bytes", func(a string) []byte {
		b := bin(func(a string) event.Event {
			return evAt(a, &event.PaymentReceived{PaymentID: "PAY-1", Currency: "EUR", Amount: 100})
		})(a)
		i := strings.Index(string(b), "EUR") + 3 // then the decimal: length 1 (0x02), 0x64
		return append(append(append([]byte{}, b[:i]...), 18, 1, 2, 3, 4, 5, 6, 7, 8, 9), b[i+2:]...)
	})
	add("schemas", CodeInvalidAmount, "credit-limit-sub-cent.json", "credit_limit 0.001 EUR", js(std, "AccountUpserted", `"segment":"prepaid","currency":"EUR","credit_limit":"0.001"`))
	// Currencies.
	add("schemas", CodeUnknownCurrency, "currency-zzz.json", "currency ZZZ", js(std, "InvoiceIssued", inv("ZZZ", `"10.00"`)))
	add("schemas", CodeUnknownCurrency, "currency-xxx.json", "currency XXX (ISO's no-currency code)", js(std, "PaymentReceived", pay("XXX", `1`)))
	add("schemas", CodeUnknownCurrency, "currency-xts.json", "currency XTS (ISO's testing code)", js(std, "PaymentReceived", pay("XTS", `1`)))
	add("schemas", CodeUnknownCurrency, "currency-lower-case.json", "currency eur", js(std, "PaymentReceived", pay("eur", `1`)))
	add("schemas", CodeUnknownCurrency, "currency-zzz.bin", "Avro binary currency ZZZ", bin(func(a string) event.Event {
		return evAt(a, &event.Refund{RefundID: "RF-1", Currency: "ZZZ", Amount: 10000})
	}))
	// Times.
	add("schemas", CodeInvalidTime, "payment-1900.json", "a payment dated 1900 (stretched tenure)", js(envAt("e1", `"1900-01-01T00:00:00Z"`), "PaymentReceived", pay("EUR", `1`)))
	add("schemas", CodeInvalidTime, "event-time-epoch-0.json", "event_time 0 (1970)", js(envAt("e1", `0`), "PaymentReceived", pay("EUR", `1`)))
	add("schemas", CodeInvalidTime, "hold-until-9999.json", "a hold until 9999", js(std, "Hold", `"hold_id":"H-1","until":"9999-12-31T00:00:00Z"`))
	add("schemas", CodeInvalidTime, "due-date-2200.json", "a due date in 2200", js(std, "InvoiceIssued", `"invoice_id":"INV-1","currency":"EUR","amount":1,"issue_date":"2026-11-01","due_date":"2200-01-01"`))
	add("schemas", CodeInvalidTime, "event-time-unparsable.json", `event_time "yesterday"`, js(envAt("e1", `"yesterday"`), "Release", `"hold_id":"H-1"`))
	add("schemas", CodeInvalidTime, "installment-1999.json", "an installment due in 1999", js(std, "ArrangementCreated", `"arrangement_id":"AR-1","type":"PROMISE","currency":"EUR","installments":[{"due_date":"1999-12-31","amount":"10.00"}]`))
	add("schemas", CodeInvalidTime, "payment-1900.bin", "Avro binary event_time 1900", bin(func(a string) event.Event {
		ev := evAt(a, &event.PaymentReceived{PaymentID: "PAY-1", Currency: "EUR", Amount: 10000})
		ev.Time = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		return ev
	}))
	// Ids and text.
	add("schemas", CodeInvalidID, "empty-event-id.json", "empty event_id", js(func(a string) string {
		return fmt.Sprintf(`"event_id":"","event_time":%s,"source":"billing","account_id":%q`, at, a)
	}, "PaymentReceived", pay("EUR", `1`)))
	add("schemas", CodeInvalidID, "empty-invoice-id.json", "empty invoice_id", js(std, "InvoiceIssued", `"invoice_id":"","currency":"EUR","amount":1,"issue_date":"2026-11-01","due_date":"2026-11-30"`))
	add("schemas", CodeInvalidID, "long-payment-id.json", "a 129-byte payment id", js(std, "PaymentReceived", `"payment_id":"`+strings.Repeat("P", 129)+`","currency":"EUR","amount":1`))
	add("schemas", CodeInvalidID, "invoice-id-200k.json", "a 200 KB invoice id (two 600 KB ids made a 1.2 MB status record)",
		js(std, "InvoiceIssued", `"invoice_id":"`+strings.Repeat("I", 200<<10)+`","currency":"EUR","amount":1,"issue_date":"2026-11-01","due_date":"2026-11-30"`))
	add("schemas", CodeInvalidID, "invalid-utf8-id.json", "invalid UTF-8 in an id (encoding/json made it U+FFFD)", js(std, "Release", "\"hold_id\":\"H-\xff\xfe\""))
	add("schemas", CodeInvalidID, "invalid-utf8-id.bin", "invalid UTF-8 in an id, Avro binary", bin(func(a string) event.Event {
		return evAt(a, &event.InvoiceCancelled{InvoiceID: "INV-\xc3\x28"})
	}))
	add("schemas", CodeInvalidID, "empty-account-id.bin", "empty account_id on an invoice", func(a string) []byte {
		ev := evAt(a, &event.InvoiceCancelled{InvoiceID: "INV-1"})
		ev.Account = ""
		return bin(func(string) event.Event { return ev })(a)
	})
	add("schemas", CodeInvalidText, "invalid-utf8-reason.json", "invalid UTF-8 in a reason", js(std, "AccountClosed", "\"reason\":\"gone \xc3\""))
	add("schemas", CodeInvalidText, "reason-200k.json", "a 200 KB value (reason): refused, and its dead letter carries at most dlq.max_payload_bytes of it",
		js(std, "AccountClosed", `"reason":"`+strings.Repeat("r", 200<<10)+`"`))
	add("schemas", CodeInvalidTimezone, "timezone-mars.json", "time zone Mars/Olympus (was treated as UTC)", js(std, "AccountUpserted", `"segment":"prepaid","currency":"EUR","timezone":"Mars/Olympus"`))
	add("schemas", CodeTickAccount, "tick-with-account.json", "a ClockTick carrying an account_id", js(func(a string) string {
		return fmt.Sprintf(`"event_id":"%s-t","event_time":%s,"source":"ticker","account_id":%q`, a, at, a)
	}, "ClockTick", `"partition":0`))
	add("schemas", CodeTooManyItems, "invoice-ids-1001.json", "a payment naming 1001 invoices", js(std, "PaymentReceived", pay("EUR", `1`)+`,"invoice_ids":[`+strings.Repeat(`"INV-1",`, 1000)+`"INV-1"]`))
	// Structure.
	add("schemas", CodeInvalidField, "unknown-kind.json", "payload arrears.Teleport", js(std, "arrears.Teleport", ``))
	add("schemas", CodeInvalidField, "unknown-segment.json", "segment gold", js(std, "AccountUpserted", `"segment":"gold","currency":"EUR"`))
	add("schemas", CodeWrongType, "wrong-type.json", "hold_id a number", js(std, "Release", `"hold_id":7`))
	add("schemas", CodeMissingField, "missing-amount.json", "invoice without amount", js(std, "InvoiceIssued", `"invoice_id":"INV-1","currency":"EUR","issue_date":"2026-11-01","due_date":"2026-11-30"`))
	add("schemas", CodeMalformed, "truncated.json", "truncated JSON", raw([]byte(`{"event_id":"x","event_time":`)))
	add("schemas", CodeMalformed, "json-array.json", "a JSON array", raw([]byte("[1,2,3]\n")))
	add("schemas", CodeMalformed, "empty-value.bin", "an empty value", raw([]byte{}))
	add("schemas", CodeMalformed, "garbage.bin", "text that is no wire format", raw([]byte("this is not avro")))
	add("schemas", CodeMalformed, "forged-block-count.bin", "invoice_ids claiming 2^31-1 items (fatal out of memory in goavro)", func(a string) []byte {
		body := append(eventHead(), 6, 2, 'P', 6, 'E', 'U', 'R', 2, 100, 0)
		return soeFrame(EventSchema, append(append(body, zigzag(1<<31-1)...), 2, 'I'))
	})
	add("schemas", CodeMalformed, "forged-string-length.bin", "an event_id claiming 2^40 bytes", raw(soeFrame(EventSchema, append(zigzag(1<<40), 'x'))))
	add("schemas", CodeMalformed, "trailing-bytes.bin", "a valid event and one more byte", func(a string) []byte {
		return append(bin(func(a string) event.Event { return evAt(a, &event.Release{HoldID: "H-1"}) })(a), 0)
	})
	add("schemas", CodeMalformed, "truncated.bin", "a valid event cut short", func(a string) []byte {
		b := bin(func(a string) event.Event { return evAt(a, &event.Release{HoldID: "H-1"}) })(a)
		return b[:len(b)-3]
	})
	add("schemas", CodeUnknownSchema, "unknown-fingerprint.bin", "single-object encoding of an unknown schema", raw([]byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0}))
	add("schemas", CodeUnknownSchema, "unknown-schema-id.bin", "Confluent framing, schema id 424242 (no registry knows it)", raw(confluentFrame(424242, []byte{0})))
	add("schemas", CodeWrongSchema, "gl-entry-on-events.bin", "a GLEntry on ar.events", func(a string) []byte {
		b, err := c.EncodeGL(ctx, "ar.gl", sampleGL())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	// The changelog: restore must survive it.
	n++
	status := soeFrame(StatusSchema, append(append([]byte{10, 'H', '-', '9', '9', '9', 0, 0, 0}, zigzag(1<<31-1)...), 2, 'E'))
	key := "H-999"
	write(fmt.Sprintf("%02d-status-forged-block-count.bin", n), status)
	recs = append(recs, hostileRecord{File: fmt.Sprintf("%02d-status-forged-block-count.bin", n), Topic: "status", Key: &key, Code: CodeMalformed, By: "schemas",
		What: fmt.Sprintf("the %d-byte status record with balances claiming 2^31-1 items (OOM on every start in run catch-up and state restore)", len(status))})

	// For the processor and the ledger: they decode, and are refused later.
	good := js(std, "PaymentReceived", pay("EUR", `"10.00"`))
	add("processor", "KEY_MISMATCH", "key-mismatch.json", "the Kafka key differs from account_id (made a second state on another partition)", good)
	recs[len(recs)-1].Key = ptr("H-other")
	add("processor", "KEY_MISMATCH", "empty-key.json", "an empty Kafka key (landed on a random partition)", good)
	recs[len(recs)-1].Key = ptr("")
	add("processor", "FUTURE_EVENT_TIME", "event-time-2099.json", "event_time 2099 in live mode (walked a partition through every stage)", js(envAt("e1", `"2099-06-01T00:00:00Z"`), "PaymentReceived", pay("EUR", `"10.00"`)))
	add("processor", "CLOCKTICK_SOURCE", "tick-from-billing.json", "a ClockTick from a source that is not the ticker", js(func(string) string {
		return fmt.Sprintf(`"event_id":"tick-x","event_time":%s,"source":"billing","account_id":""`, at)
	}, "ClockTick", `"partition":0`))
	recs[len(recs)-1].Key = nil
	add("ledger", "CLOSED_ACCOUNT", "invoice-on-closed-account.json", "a new invoice on a closed account (dunning started)",
		js(envAt("e3", at), "InvoiceIssued", inv("EUR", `"10.00"`)), upsert, js(envAt("e2", at), "AccountClosed", `"reason":"churn"`))
	add("ledger", "CLOSED_ACCOUNT", "payment-on-closed-account.json", "a payment on a closed account",
		js(envAt("e3", at), "PaymentReceived", pay("EUR", `"10.00"`)), upsert, js(envAt("e2", at), "AccountClosed", `"reason":"churn"`))
	add("ledger", "NEGATIVE_OR_ZERO_AMOUNT", "payment-negative.json", "a payment of -10.00", js(std, "PaymentReceived", pay("EUR", `"-10.00"`)), upsert)
	add("ledger", "REFUND_EXCEEDS_CREDIT", "refund-exceeds-credit.json", "a refund with no credit to refund",
		js(std, "Refund", `"refund_id":"RF-1","currency":"EUR","amount":"50.00"`), upsert)
	add("ledger", "INVALID_DATES", "due-before-issue.json", "an invoice due before it was issued",
		js(std, "InvoiceIssued", `"invoice_id":"INV-1","currency":"EUR","amount":"10.00","issue_date":"2026-11-10","due_date":"2026-11-01"`), upsert)
	add("ledger", "ID_CONFLICT", "invoice-id-reused.json", "an invoice id repeated with another amount",
		js(envAt("e2", at), "InvoiceIssued", inv("EUR", `"99.00"`)), upsert, js(envAt("e1", at), "InvoiceIssued", inv("EUR", `"10.00"`)))
	add("ledger", "", "event-id-reused.json", "the same event_id with another payment id: ignored as a repeat (was applied twice); no dead letter, no change",
		js(envAt("e2", at), "PaymentReceived", `"payment_id":"PAY-2","currency":"EUR","amount":"10.00"`), upsert, js(envAt("e2", at), "PaymentReceived", pay("EUR", `"10.00"`)))
	add("ledger", "", "payment-unknown-invoice.json", "a payment naming an unknown invoice: allocated per policy, counted in unknown_invoice_refs (was silent credit); no dead letter",
		js(std, "PaymentReceived", pay("EUR", `"10.00"`)+`,"invoice_ids":["INV-404"]`), upsert)
	var out strings.Builder
	out.WriteString("[\n")
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		if i < len(recs)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("]\n")
	write("manifest.json", []byte(out.String()))
}

func ptr(s string) *string { return &s }
