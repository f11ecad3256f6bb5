package chsink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
)

// TestSinkLandsDebitNotes: on the real stack, GL entries the core books
// with a debit note (INTEREST, FEE, LEGAL_FEE, BAD_DEBT_RECOVERY) land a
// debit_notes row each next to their gl_entries row, with the ledger's
// adjustment id ("fee-" or "rec-" + the entry id after "gl-") and the
// invoice: the entry's invoice_id, or for an entry written before that
// field the one its description ends with (a recovery's before ",
// payment"); other entries (a WRITE_OFF, a FEE naming no invoice) land
// none, and no note is an input fact (events, event_records stay empty).
func TestSinkLandsDebitNotes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	entries := []event.GLEntry{
		{EntryID: "gl-int1", Account: "A1", Time: at, Kind: "INTEREST", Currency: "EUR", Amount: event.MustAmount("6.14"),
			DebitAccount: "1210", CreditAccount: "4210", Reference: "int1",
			Description: "late-payment interest to 2026-03-01, ACT/365 0.08 a year on 1 principal-days (1e-4 units), policy corporate-standard@v1, invoice I1"},
		{EntryID: "gl-act9", Account: "A1", Time: at, Kind: "FEE", Currency: "EUR", Amount: event.MustAmount("40"),
			DebitAccount: "1210", CreditAccount: "4110", Reference: "act9", Description: "dunning fee, policy p stage formal_notice, invoice I, 2"},
		{EntryID: "gl-act10", Account: "A2", Time: at, Kind: "LEGAL_FEE", Currency: "EUR", Amount: event.MustAmount("150"),
			DebitAccount: "1210", CreditAccount: "4150", Reference: "act10", Description: "legal fee, policy p stage legal, invoice J1"},
		{EntryID: "gl-wo", Account: "A2", Time: at, Kind: "WRITE_OFF", Currency: "EUR", Amount: event.MustAmount("10"),
			DebitAccount: "6810", CreditAccount: "1210", Reference: "wo", Description: "write-off, invoice J1"},
		{EntryID: "gl-old", Account: "A3", Time: at, Kind: "FEE", Currency: "EUR", Amount: event.MustAmount("5"), Reference: "old"},
		// as the core writes them now: the invoice in its own field
		{EntryID: "gl-act11", Account: "A1", Time: at, Kind: "FEE", Currency: "EUR", Amount: event.MustAmount("5"),
			DebitAccount: "1210", CreditAccount: "4110", Reference: "act11", Description: "dunning fee, policy p stage reminder, invoice I2", InvoiceID: "I2"},
		{EntryID: "gl-rec1", Account: "A3", Time: at, Kind: "BAD_DEBT_RECOVERY", Currency: "EUR", Amount: event.MustAmount("25"),
			DebitAccount: "1210", CreditAccount: "6820", Reference: "P9", Description: "recovery after write-off, policy p@v1, invoice K1, payment P9", InvoiceID: "K1"},
		// a recovery written before invoice_id
		{EntryID: "gl-rec2", Account: "A3", Time: at, Kind: "BAD_DEBT_RECOVERY", Currency: "EUR", Amount: event.MustAmount("7"),
			DebitAccount: "1210", CreditAccount: "6820", Reference: "P10", Description: "recovery after write-off, policy p@v1, invoice K2, payment P10"},
	}
	var recs []*kgo.Record
	for i := range entries {
		b, err := h.codec.EncodeGL(ctx, h.kcfg.Topics.GL, &entries[i])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: h.kcfg.Topics.GL, Key: []byte(entries[i].Account), Value: b})
	}
	h.produceTx(recs, false)
	stop := h.start()
	h.waitFor(map[string]uint64{"gl_entries": 8, "debit_notes": 6, "events": 0, "event_records": 0}, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rows, err := h.conn.Query(ctx, "SELECT adjustment_id, account_id, invoice_id, toString(note_time), kind, currency, toString(amount), entry_id FROM "+
		h.conn.Table("debit_notes")+" FINAL ORDER BY account_id, adjustment_id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		v := make([]string, 8)
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(v, " "))
	}
	rows.Close()
	want := []string{
		"fee-act11 A1 I2 2026-03-01 00:00:00 FEE EUR 5.0000 gl-act11",
		"fee-act9 A1 I, 2 2026-03-01 00:00:00 FEE EUR 40.0000 gl-act9", // the last ", invoice " marks the invoice
		"fee-int1 A1 I1 2026-03-01 00:00:00 INTEREST EUR 6.1400 gl-int1",
		"fee-act10 A2 J1 2026-03-01 00:00:00 LEGAL_FEE EUR 150.0000 gl-act10",
		"rec-rec1 A3 K1 2026-03-01 00:00:00 BAD_DEBT_RECOVERY EUR 25.0000 gl-rec1",
		"rec-rec2 A3 K2 2026-03-01 00:00:00 BAD_DEBT_RECOVERY EUR 7.0000 gl-rec2",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("debit_notes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
