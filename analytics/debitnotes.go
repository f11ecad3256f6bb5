package analytics

import (
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// DebitNotesTable holds the debit notes the core posts (migration 0013).
var DebitNotesTable = &TableSpec{"debit_notes", []string{"adjustment_id", "account_id", "invoice_id", "note_time", "kind",
	"currency", "amount", "entry_id", "kafka_partition", "kafka_offset", "ingested_at"}}

// DebitNoteKinds are the GL entry kinds that are booked with a debit note
// on an invoice of the account (processor/dunning: charge, the path fees,
// legal fees and late-payment interest take).
var DebitNoteKinds = []string{"FEE", "LEGAL_FEE", "INTEREST"}

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
// note (ok false for any other entry, or one whose description names no
// invoice): the note's invoice is the one the description ends with
// (", invoice <id>", as the core writes it).
func DebitNoteRow(g *event.GLEntry, src Source, now time.Time) (Row, bool) {
	if !isDebitNoteKind(g.Kind) || g.Reference == "" {
		return Row{}, false
	}
	const mark = ", invoice "
	i := strings.LastIndex(g.Description, mark)
	if i < 0 || i+len(mark) == len(g.Description) {
		return Row{}, false
	}
	inv := g.Description[i+len(mark):]
	return Row{DebitNotesTable, []any{"fee-" + g.Reference, g.Account, inv, utc(g.Time), g.Kind, string(g.Currency),
		Dec(g.Amount), g.EntryID, src.Partition, src.Offset, now}}, true
}

func isDebitNoteKind(k string) bool {
	for _, d := range DebitNoteKinds {
		if k == d {
			return true
		}
	}
	return false
}
