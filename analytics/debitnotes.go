package analytics

import (
	"strings"
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
)

// DebitNotesTable holds the debit notes the core posts (migration 0013).
var DebitNotesTable = &TableSpec{"debit_notes", []string{"adjustment_id", "account_id", "invoice_id", "note_time", "kind",
	"currency", "amount", "entry_id", "kafka_partition", "kafka_offset", "ingested_at"}}

// Why interest (and the fees) land as output rows and not as input facts:
// the core derives each of them from the account's state and its policy
// (interest.go: accrual per day, posted at posting_day; entry and
// adjustment ids hash the account, currency and posting date) and applies
// the note to its own ledger. `arrears simulate` replays event_records (the
// accepted input) through that same core under the active policies and a
// candidate: a landed note replayed as input would be applied on top of the
// note the arm posts itself, so a candidate with another posting day, rate
// or no interest at all would carry the active policy's interest (twice
// where the ids differ), and every note would be a step of its own. The
// note has no accepted input record either (event_records is keyed by the
// accepted topic's offsets). So the input tables stay exactly what the
// processor accepted, and the note is an output row next to its GL entry.

// DebitNoteRow is the debit_notes row of a GL entry booked with a debit
// note (dunning.NoteOf: FEE, LEGAL_FEE, INTEREST, BAD_DEBT_RECOVERY; ok
// false for any other entry, or one that names no invoice). The
// note's invoice is the entry's invoice_id; an entry written before
// gl_entry had that field (schemas/history/gl_entry.1.avsc) names it at the
// end of its description (", invoice <id>", as the core wrote it; a
// recovery's then went on with ", payment <id>").
func DebitNoteRow(g *event.GLEntry, src Source, now time.Time) (Row, bool) {
	note, ok := dunning.NoteOf(g.Kind, g.EntryID)
	if !ok {
		return Row{}, false
	}
	inv := g.InvoiceID
	if inv == "" {
		inv = invoiceInDescription(g)
	}
	if inv == "" {
		return Row{}, false
	}
	return Row{DebitNotesTable, []any{note, g.Account, inv, utc(g.Time), g.Kind, string(g.Currency),
		Dec(g.Amount), g.EntryID, src.Partition, src.Offset, now}}, true
}

// invoiceInDescription is the invoice an older entry's description names.
func invoiceInDescription(g *event.GLEntry) string {
	const mark = ", invoice "
	i := strings.LastIndex(g.Description, mark)
	if i < 0 {
		return ""
	}
	inv := g.Description[i+len(mark):]
	if g.Kind == "BAD_DEBT_RECOVERY" {
		inv, _, _ = strings.Cut(inv, ", payment ")
	}
	return inv
}
