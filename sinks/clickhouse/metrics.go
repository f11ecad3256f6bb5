package chsink

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the sink's collectors. Labels are bounded: table names,
// topic names and a fixed set of dead-letter classes.
type Metrics struct {
	RowsInserted    *prometheus.CounterVec   // table
	BatchesInserted *prometheus.CounterVec   // table
	InsertSeconds   *prometheus.HistogramVec // table
	Retries         *prometheus.CounterVec   // table ("dlq": DLQ produce, "decode": transient decode errors)
	DeadLettered    *prometheus.CounterVec   // topic, class: decode, reject, dropped
	NoSource        prometheus.Counter       // accepted records without usable src_* headers
	Consumed        *prometheus.CounterVec   // topic
	BufferedRows    prometheus.Gauge         // rows waiting for the next flush
	BufferedRecords prometheus.Gauge         // records waiting for their commit
	Lag             *prometheus.GaugeVec     // topic: records behind the high watermark
	Paused          prometheus.Gauge         // 1 while fetching is paused on a failing insert
	CommitSeconds   prometheus.Histogram
	StatusSkipped   prometheus.Counter     // status records whose row repeated the account's last one
	SnapshotBuilds  *prometheus.CounterVec // result: ok, error (receivables snapshot builds)
	SnapshotSeconds prometheus.Histogram   // duration of successful snapshot builds
	// ChangelogUnreadable is 1 for the reason (absent, unauthorized) the
	// configured group changelog cannot be read while it cannot (groups.go)
	ChangelogUnreadable *prometheus.GaugeVec

	// stalled is the sink's Stalled, read by the arrears_sink_stalled gauge
	// (0 until a sink sets it).
	stalled atomic.Pointer[func() bool]
}

// NewMetrics builds and registers the collectors on reg (nil: a private
// registry, for tests and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	const ns, sub = "arrears", "sink"
	m := &Metrics{
		RowsInserted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rows_inserted_total", Help: "Rows ClickHouse acknowledged, by table."}, []string{"table"}),
		BatchesInserted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "batches_inserted_total", Help: "Insert batches ClickHouse acknowledged, by table."}, []string{"table"}),
		InsertSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "insert_seconds", Help: "Latency of successful batch inserts, by table.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14)}, []string{"table"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "retries_total", Help: "Failed attempts that were retried, by table (dlq: DLQ produce; decode: transient decode errors)."}, []string{"table"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "dead_lettered_total", Help: "Records sent to the DLQ (decode, reject) or dropped (records of the DLQ topic itself), by source topic."},
			[]string{"topic", "class"}),
		NoSource: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "accepted_without_source_total", Help: "Accepted records without usable src_topic/src_partition/src_offset headers (landed with their own coordinates)."}),
		Consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_consumed_total", Help: "Records polled, by topic."}, []string{"topic"}),
		BufferedRows: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "buffered_rows", Help: "Rows buffered for the next flush (the in-memory backlog)."}),
		BufferedRecords: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "buffered_records", Help: "Records polled but not yet committed."}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "lag_records", Help: "Records between the last polled offset and the high watermark (the Kafka backlog), by topic."},
			[]string{"topic"}),
		Paused: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "paused", Help: "1 while fetching is paused because inserts are failing."}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "commit_seconds", Help: "Latency of offset commits after a flush.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		StatusSkipped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "status_rows_skipped_total", Help: "Status records not landed in account_status: every analyst-visible column equal to the account's last landed row."}),
		SnapshotBuilds: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "snapshot_builds_total", Help: "Receivables snapshot builds, by result (ok, error)."}, []string{"result"}),
		SnapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "snapshot_build_seconds", Help: "Duration of successful receivables snapshot builds.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
		ChangelogUnreadable: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "group_changelog_unreadable", Help: "1 while the configured group changelog cannot be read, by reason (absent, unauthorized): group_exposure is not landed meanwhile."},
			[]string{"reason"}),
	}
	stalled := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
		Name: "stalled", Help: "1 while records have waited longer than sink.stall_timeout without a committed flush."},
		func() float64 {
			if f := m.stalled.Load(); f != nil && (*f)() {
				return 1
			}
			return 0
		})
	reg.MustRegister(m.RowsInserted, m.BatchesInserted, m.InsertSeconds, m.Retries, m.DeadLettered, m.NoSource, m.Consumed,
		m.BufferedRows, m.BufferedRecords, m.Lag, m.Paused, m.CommitSeconds, m.StatusSkipped, m.SnapshotBuilds, m.SnapshotSeconds, m.ChangelogUnreadable, stalled)
	return m
}
