package chsink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/kafkax"
)

// Erasure (right to erasure, issue 13). The processor turns an
// AccountErased into a tombstone of the account on the status topic
// (processor/erase.go). The sink, seeing it, deletes every row that holds
// the account id from every table of its database:
//
//   - the tables are found, not listed: every MergeTree-family table with a
//     column account_id (events, the fact tables, actions, risk, status,
//     risk features, GL, event_records, and any table a later migration
//     adds) or record_key (dead_letters: the account is the dead letter's
//     key, its value the raw input); a column parent_id (accounts: a
//     child's parent) is blanked with ALTER ... UPDATE. The receivables
//     snapshot holds no account id: its builds from the account's first
//     fact on are marked stale and rebuilt without it.
//   - ALTER TABLE ... DELETE runs on ClickHouse 18.16 and current releases;
//     it is an asynchronous mutation, so the sink waits until
//     system.mutations reports the table's mutations done and a count
//     finds no row left, before it commits the tombstone's offset. A crash
//     in between re-delivers the tombstone and the erasure runs again:
//     counting first, a table without the account's rows gets no mutation,
//     so a repeat is cheap and changes nothing.
//   - one audit row per erasure in the erasures table (migration 0010)
//     records that it happened without personal data: the AccountErased
//     event id, its source ("api:<actor>"), reason code and time, the
//     tables and row counts deleted, the tombstone's coordinates.
//
// Rows of the account that arrive after the deletion on another topic the
// sink reads (a lagging partition holding the account's older actions or
// status records) would bring it back: the sink remembers, in memory, the
// accounts it erased with the tombstone's record time and drops rows of
// those accounts from records written before it. A record written after
// it is a new fact (the id upserted again) and lands.

// The erasure's statements run as their own ClickHouse user when
// sink.erase_username is set: a sink user that may INSERT but not ALTER
// (allow_ddl=0 on 18.16, which also refuses DROP; on current releases no
// ALTER DELETE grant) cannot erase. The listing, the counts, the ALTER
// TABLE ... DELETE/UPDATE, the system.mutations wait and the verification
// go over that second connection; the audit row and every other row go in
// as the sink's own user. Without it an erasure the sink's user may not
// run stops the sink (fatal, naming the user and sink.erase_username).

// openEraser opens the erasure's connection as cfg.EraseUsername (nil when
// unset: the sink's own connection erases).
func openEraser(ctx context.Context, cfg Config) (*analytics.Conn, error) {
	if cfg.EraseUsername == "" {
		return nil, nil
	}
	ecfg := cfg.ClickHouse
	ecfg.Username, ecfg.Password = cfg.EraseUsername, cfg.ErasePassword
	c, err := analytics.Open(ctx, ecfg)
	if err != nil {
		return nil, fmt.Errorf("chsink: sink.erase_username: %w", err)
	}
	return c, nil
}

// eraser is the connection the erasure's statements run on.
func (s *Sink) eraser() *analytics.Conn { return cmp.Or(s.econn, s.conn) }

// closeConns closes the ClickHouse connections.
func (s *Sink) closeConns() {
	_ = s.conn.Close()
	if s.econn != nil {
		_ = s.econn.Close()
	}
}

// erasure is a status tombstone to carry out at the next flush.
type erasure struct {
	account            string
	id, source, reason string
	at                 time.Time // the AccountErased event time (zero: no header)
	partition          int32
	offset             int64
}

// eraseWait bounds the wait for one flush's mutations; past it the flush
// fails and is retried (the tombstones stay uncommitted).
const eraseWait = 10 * time.Minute

// maxRecentErasures bounds the accounts whose late rows are dropped.
const maxRecentErasures = 100_000

// accountColumns are the columns whose value is the row's account id.
var accountColumns = map[string]bool{"account_id": true, "record_key": true, "group_id": true}

// erasing is the sink's hook for every decoded record: a status tombstone
// becomes a pending erasure; rows of an account erased since the record
// was written are dropped. It returns the rows to buffer.
func (s *Sink) erasing(rec *kgo.Record, rows []analytics.Row) []analytics.Row {
	if rec.Value == nil && len(rec.Key) > 0 && s.dec.kinds[rec.Topic] == kindStatus {
		e := erasure{account: string(rec.Key), partition: rec.Partition, offset: rec.Offset}
		for _, h := range rec.Headers {
			switch h.Key {
			case kafkax.HeaderErasureID:
				e.id = string(h.Value)
			case kafkax.HeaderErasureSource:
				e.source = string(h.Value)
			case kafkax.HeaderErasureReason:
				e.reason = string(h.Value)
			case kafkax.HeaderErasureTime:
				if ms, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
					e.at = time.UnixMilli(ms).UTC()
				}
			}
		}
		s.buf.erase = append(s.buf.erase, e)
		s.remember(e.account, rec.Timestamp)
		return nil
	}
	if len(s.erased) == 0 {
		return rows
	}
	return slices.DeleteFunc(rows, func(r analytics.Row) bool {
		at, ok := s.erased[rowAccount(r)]
		return ok && !rec.Timestamp.After(at)
	})
}

// remember notes an erased account for dropping its late rows, keeping
// the memory bounded (the oldest go first).
func (s *Sink) remember(acct string, at time.Time) {
	if s.erased == nil {
		s.erased = map[string]time.Time{}
	}
	s.erased[acct] = at
	if len(s.erased) <= maxRecentErasures {
		return
	}
	ts := make([]time.Time, 0, len(s.erased))
	for _, t := range s.erased {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	cut := ts[len(ts)/2]
	for a, t := range s.erased {
		if t.Before(cut) {
			delete(s.erased, a)
		}
	}
}

// rowAccount is the account id a row holds ("" when none).
func rowAccount(r analytics.Row) string {
	for i, c := range r.Table.Columns {
		if accountColumns[c] && i < len(r.Values) {
			if a, ok := r.Values[i].(string); ok {
				return a
			}
		}
	}
	return ""
}

// eraseBuffered carries out the buffered erasures once the buffer's rows
// are inserted (so rows of this very flush go too), retrying transient
// failures; the receivables snapshot from the accounts' first fact on is
// marked stale by the flush.
func (s *Sink) eraseBuffered(ctx context.Context) error {
	if len(s.buf.erase) == 0 {
		return nil
	}
	for _, e := range s.buf.erase {
		s.dec.status.forget(e.account) // an id used again lands its first status row
	}
	err := s.eraseOnce(ctx)
	for delay := s.cfg.RetryInitial; err != nil && classify(err) == retry; delay = min(2*delay, s.cfg.RetryMax) {
		s.waiting()
		s.m.Retries.WithLabelValues("erasures").Inc()
		s.log.Warn("erasure failed, retrying", "accounts", len(s.buf.erase), "retry_in", delay, "err", err)
		if serr := sleep(ctx, jitter(delay)); serr != nil {
			return serr
		}
		err = s.eraseOnce(ctx)
	}
	if errors.Is(err, analytics.ErrNotPermitted) {
		user := cmp.Or(s.cfg.EraseUsername, s.cfg.ClickHouse.Username)
		return fmt.Errorf("erase %d accounts as clickhouse user %q, which may not ALTER ... DELETE/UPDATE "+
			"(sink.erase_username names one that may, docs/security.md): %w", len(s.buf.erase), user, err)
	}
	if err != nil {
		return fmt.Errorf("erase %d accounts: %w", len(s.buf.erase), err)
	}
	s.log.Info("accounts erased", "accounts", len(s.buf.erase))
	s.buf.erase = nil
	return nil
}

// eraseOnce is one attempt: count, delete, wait, verify, audit.
func (s *Sink) eraseOnce(ctx context.Context) error {
	accts := make([]string, 0, len(s.buf.erase))
	for _, e := range s.buf.erase {
		accts = append(accts, e.account)
	}
	slices.Sort(accts)
	accts = slices.Compact(accts)
	res, err := analytics.EraseAccounts(ctx, s.eraser(), accts, eraseWait)
	if err != nil {
		return err
	}
	if !res.FirstFact.IsZero() && (s.buf.factLo.IsZero() || res.FirstFact.Before(s.buf.factLo)) {
		s.buf.factLo = res.FirstFact
	}
	now := time.Now().UTC()
	if s.buf.factHi.Before(now) && !s.buf.factLo.IsZero() {
		s.buf.factHi = now
	}
	rows := make([][]any, 0, len(s.buf.erase))
	for _, e := range s.buf.erase {
		var tables []string
		var counts []uint64
		for _, t := range res.Tables {
			if n := res.Deleted[e.account][t]; n > 0 {
				tables, counts = append(tables, t), append(counts, n)
			}
		}
		rows = append(rows, []any{e.id, e.at, e.source, e.reason, orEmpty(tables), orEmptyU(counts), e.partition, e.offset, now})
	}
	return analytics.Insert(ctx, s.conn, analytics.ErasuresTable, rows)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyU(s []uint64) []uint64 {
	if s == nil {
		return []uint64{}
	}
	return s
}

// forget drops what the dedup remembers of acct (an erased account).
func (d *statusDedup) forget(acct string) {
	if d != nil {
		delete(d.cur, acct)
		delete(d.old, acct)
	}
}
