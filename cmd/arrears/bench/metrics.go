package bench

import (
	"context"
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// loopStats reads the processor's own histograms from its /metrics: where
// a batch's wall time goes (nil if they cannot be read or no batch ran).
func (c *child) loopStats(ctx context.Context) *LoopStats {
	body, err := c.get(ctx, "/metrics")
	if err != nil {
		return nil
	}
	defer body.Close()
	fams, err := parseMetrics(body)
	if err != nil {
		return nil
	}
	return loopStatsOf(fams)
}

// waitFirstBatch waits until the processor has run its first transaction:
// it owns its partitions (the group join takes the broker's
// group.initial.rebalance.delay.ms, 3 s by default) and has claimed and
// restored them. A newly owned partition is processed without input, so
// this needs no record.
func (c *child) waitFirstBatch(ctx context.Context) error {
	_, err := waitFor(ctx, c, "past its first transaction", func() (bool, error) {
		return c.loopStats(ctx) != nil, nil
	})
	return err
}

// parseMetrics reads the Prometheus text exposition format.
func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// loopStatsOf averages the processor's batch histograms over every series.
func loopStatsOf(fams map[string]*dto.MetricFamily) *LoopStats {
	batches, _ := histogram(fams, "arrears_processor_batch_seconds")
	if batches == 0 {
		return nil
	}
	_, records := histogram(fams, "arrears_processor_batch_records")
	_, batchSec := histogram(fams, "arrears_processor_batch_seconds")
	_, commitSec := histogram(fams, "arrears_processor_commit_seconds")
	calls, storeSec := histogram(fams, "arrears_processor_store_apply_seconds")
	n := float64(batches)
	return &LoopStats{
		Batches:       int(batches),
		RecordsPerTxn: records / n,
		BatchMs:       1000 * batchSec / n,
		CommitMs:      1000 * commitSec / n,
		StoreMs:       1000 * storeSec / float64(max(calls, 1)),
	}
}

// histogram is the sample count and sum of the histogram name over all its
// series (0, 0 if it is missing or not a histogram).
func histogram(fams map[string]*dto.MetricFamily, name string) (count uint64, sum float64) {
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_HISTOGRAM {
		return 0, 0
	}
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		count += h.GetSampleCount()
		sum += h.GetSampleSum()
	}
	return count, sum
}
