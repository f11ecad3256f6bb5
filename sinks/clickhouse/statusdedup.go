package chsink

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/arrears/arrears/analytics"
)

// statusDedup decides whether a status record's account_status row says
// anything new: it remembers, per account, a 64-bit hash of the
// analyst-visible columns of the last row the sink landed for it (every
// column but the status time, the source and Kafka coordinates and the
// ingestion time), and a row whose hash equals it is not landed. The
// previous row already holds those values, so every report reads the same
// answer: reports select status rows by value and by day, and two rows
// with the same days_past_due > 0 and oldest due date fall on the same
// day (the timeline's state line names the record that first showed the
// state rather than the last one that repeated it).
//
// Why in the sink and not by reading ClickHouse or the processor: the sink
// sees every status record of a partition in order, so the comparison
// costs one hash and one map look-up and no query; the processor would
// need the previous status in its state (bytes per account in Redis).
//
// The memory is bounded: two generations of at most Capacity/2 accounts
// each (a look-up in the old generation moves the account to the new
// one; when the new one is full the old one is dropped), so the accounts
// seen least recently are forgotten first. A forgotten account, a restart
// or a rebalance (Reset, on every assignment change: another sink may have
// landed rows of those partitions meanwhile) only means the next row is
// landed again, never that a change is missed. Not safe for concurrent
// use except Reset.
type statusDedup struct {
	half     int
	cur, old map[string]uint64
	seed     maphash.Seed
	reset    atomic.Bool
	skipped  prometheus.Counter // nil: not counted
}

// newStatusDedup remembers up to capacity accounts; 0 disables it (nil).
func newStatusDedup(capacity int) *statusDedup {
	if capacity <= 0 {
		return nil
	}
	half := max(1, capacity/2)
	return &statusDedup{half: half, cur: make(map[string]uint64), old: map[string]uint64{}, seed: maphash.MakeSeed()}
}

// Reset forgets every account, from any goroutine; it takes effect before
// the next record.
func (d *statusDedup) Reset() {
	if d != nil {
		d.reset.Store(true)
	}
}

// statusKeyColumns are the account_status columns a repeat must match.
var statusKeyColumns = func() []int {
	skip := map[string]bool{"status_time": true, "source_partition": true, "source_offset": true,
		"kafka_partition": true, "kafka_offset": true, "ingested_at": true}
	var idx []int
	for i, c := range analytics.StatusTable.Columns {
		if !skip[c] {
			idx = append(idx, i)
		}
	}
	return idx
}()

// land reports whether row (an account_status row) differs from the last
// one landed for its account, and remembers it.
func (d *statusDedup) land(account string, row analytics.Row) bool {
	if d == nil {
		return true
	}
	if d.reset.Swap(false) {
		d.cur, d.old = make(map[string]uint64), map[string]uint64{}
	}
	h := d.hash(row)
	prev, ok := d.cur[account]
	if !ok {
		if prev, ok = d.old[account]; ok {
			delete(d.old, account)
		}
	}
	if len(d.cur) >= d.half {
		d.old, d.cur = d.cur, make(map[string]uint64, d.half)
	}
	d.cur[account] = h
	if ok && prev == h {
		if d.skipped != nil {
			d.skipped.Inc()
		}
		return false
	}
	return true
}

// hash folds the key columns of row: the value types StatusRow builds
// directly, anything else through fmt.
func (d *statusDedup) hash(row analytics.Row) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	var b [8]byte
	num := func(u uint64) {
		binary.LittleEndian.PutUint64(b[:], u)
		_, _ = h.Write(b[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		_, _ = h.WriteString(s)
	}
	dec := func(x decimal.Decimal) { // analytics.Dec: an int64 coefficient
		num(uint64(x.CoefficientInt64()))
		num(uint64(x.Exponent()))
	}
	for _, i := range statusKeyColumns {
		switch v := row.Values[i].(type) {
		case string:
			str(v)
		case uint8:
			num(uint64(v))
		case int32:
			num(uint64(v))
		case int64:
			num(uint64(v))
		case float64:
			num(math.Float64bits(v))
		case time.Time:
			num(uint64(v.UnixNano()))
		case decimal.Decimal:
			dec(v)
		case []string:
			num(uint64(len(v)))
			for _, s := range v {
				str(s)
			}
		case []decimal.Decimal:
			num(uint64(len(v)))
			for _, x := range v {
				dec(x)
			}
		default:
			_, _ = fmt.Fprintf(&h, "%T%v", v, v)
		}
	}
	return h.Sum64()
}
