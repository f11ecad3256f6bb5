package processor

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the processor's collectors. Labels are bounded: topic,
// partition, event kind, outcome, action type, error class; never an account.
type Metrics struct{ m *metrics }

type metrics struct {
	events           *prometheus.CounterVec
	actions          *prometheus.CounterVec
	deadLetters      *prometheus.CounterVec
	lag              *prometheus.GaugeVec
	batchRecords     prometheus.Histogram
	batchSeconds     prometheus.Histogram
	commitSeconds    prometheus.Histogram
	storeSeconds     prometheus.Histogram
	aborted          prometheus.Counter
	storeRetries     prometheus.Counter
	restores         prometheus.Counter
	restored         prometheus.Counter
	failures         prometheus.Counter
	retries          *prometheus.CounterVec
	paused           prometheus.Gauge
	stalled          prometheus.Gauge
	sessionRestarts  prometheus.Counter
	changelogSkipped prometheus.Counter
	wakeBacklog      prometheus.Counter
	misrouted        *prometheus.CounterVec
	policyVersions   prometheus.Gauge
}

// NewMetrics registers the processor's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_processor_events_total", Help: "Input events by kind and outcome (applied, rejected, dead_letter).",
		}, []string{"kind", "outcome"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_processor_actions_total", Help: "Dunning actions emitted by type.",
		}, []string{"type"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_processor_dead_letters_total", Help: "Records sent to the DLQ by error class.",
		}, []string{"class"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "arrears_processor_lag_records", Help: "Records between the last fetched offset and the high watermark.",
		}, []string{"topic", "partition"}),
		batchRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arrears_processor_batch_records", Help: "Records per transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arrears_processor_batch_seconds", Help: "Wall time of one batch: apply, commit and store.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arrears_processor_commit_seconds", Help: "Kafka transaction commit latency.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		storeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arrears_processor_store_apply_seconds", Help: "Redis apply latency per partition batch.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_transactions_aborted_total", Help: "Kafka transactions aborted.",
		}),
		storeRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_store_retries_total", Help: "Store writes retried after a failure.",
		}),
		restores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_restores_total", Help: "Partitions restored from the changelog after the store lost them.",
		}),
		restored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_restored_accounts_total", Help: "Account states read back from the changelog.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_batch_failures_total", Help: "Batches that failed (store, changelog or Kafka errors) and were retried after a backoff.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_processor_retries_total", Help: "Retries after a transient failure, by scope: partition (its fetch paused with a backoff), transaction, session.",
		}, []string{"scope"}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arrears_processor_paused_partitions", Help: "Input partitions whose fetch is paused for a retry backoff.",
		}),
		stalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arrears_processor_stalled", Help: "1 while input is waiting and nothing committed for processor.stall_timeout (/readyz is unready).",
		}),
		changelogSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_changelog_skipped_total", Help: "Changelog records restore could not read (not written by arrears) and skipped.",
		}),
		misrouted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_processor_misrouted_total", Help: "Input records not on their key's murmur2 partition, by action: forward (copied to the owning partition), dead_letter, skip (a copy another consumer group forwarded).",
		}, []string{"action"}),
		wakeBacklog: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_wake_backlog_total", Help: "Partition batches that left timer wake-ups due for the next transaction (processor.max_wakes_per_txn).",
		}),
		sessionRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_processor_session_restarts_total", Help: "Kafka transaction sessions closed after a fatal error and built anew.",
		}),
		policyVersions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arrears_processor_policy_versions", Help: "Published policy versions (ar.policies) this instance decides with (0: the files alone).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.actions, m.deadLetters, m.lag, m.batchRecords, m.batchSeconds,
			m.commitSeconds, m.storeSeconds, m.aborted, m.storeRetries, m.restores, m.restored, m.failures,
			m.retries, m.paused, m.stalled, m.sessionRestarts, m.changelogSkipped, m.wakeBacklog, m.misrouted,
			m.policyVersions)
	}
	return &Metrics{m: m}
}
