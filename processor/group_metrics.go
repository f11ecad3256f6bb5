package processor

import "github.com/prometheus/client_golang/prometheus"

// groupMetrics are the group stage's Prometheus metrics (arrears_groups_*).
type groupMetrics struct {
	records      *prometheus.CounterVec // by outcome: applied, repeat, unreadable
	forwards     prometheus.Counter
	nodes        prometheus.Counter
	transactions *prometheus.CounterVec // by outcome: committed, aborted
	events       *prometheus.CounterVec // group events written to the events topic, by kind
}

func newGroupMetrics(reg prometheus.Registerer) *groupMetrics {
	m := &groupMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_groups_records_total", Help: "Group contribution records by outcome (applied, repeat, unreadable).",
		}, []string{"outcome"}),
		forwards: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_groups_forwards_total", Help: "Subtree contributions and removals a group node sent to its parent.",
		}),
		nodes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arrears_groups_nodes_written_total", Help: "Group nodes written to the group changelog.",
		}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_groups_transactions_total", Help: "Group-stage transactions by outcome (committed, aborted).",
		}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arrears_groups_events_total", Help: "Group events (GroupContext, GroupServiceChange, GroupConditions) written to the events topic, by kind.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.forwards, m.nodes, m.transactions, m.events)
	}
	return m
}
