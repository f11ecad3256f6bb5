package processor

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// errNotJoined: the processor is not (or no longer) in its consumer group.
var errNotJoined = errors.New("not joined to the consumer group")

// progressed records that the loop committed a transaction (or found
// nothing waiting).
func (p *Processor) progressed() {
	p.progress.Store(p.d.now().UnixMilli())
	if p.stalled.Swap(false) {
		p.d.m.stalled.Set(0)
		p.d.log.Info("processing resumed")
	}
}

// watch measures the lag of the owned partitions from the group's
// committed offsets (not from what was fetched, which says nothing while a
// poll hangs) and marks the processor stalled when input is waiting, or
// Kafka cannot be asked, and nothing committed for processor.stall_timeout.
// /readyz reports not ready while stalled.
func (p *Processor) watch(ctx context.Context) {
	cl, err := kgo.NewClient(p.d.kcfg.ClientOpts()...)
	if err != nil {
		p.d.log.Error("stall watch: kafka client", "err", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	every := min(max(p.d.cfg.StallTimeout/4, 250*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	labels := map[string][2]string{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, every)
		lag, err := p.lag(qctx, adm, labels)
		cancel()
		if err == nil && lag == 0 {
			p.progressed()
			continue
		}
		since := time.Duration(p.d.now().UnixMilli()-p.progress.Load()) * time.Millisecond
		if since > p.d.cfg.StallTimeout && !p.stalled.Swap(true) {
			p.d.m.stalled.Set(1)
			p.d.log.Error("processing stalled: input is waiting and nothing committed", "for", since.Round(time.Second).String(), "lag", lag, "err", err)
		}
	}
}

// lag is the sum over owned input partitions of end offset minus the
// group's committed offset; it also sets the lag gauges (and drops those
// of partitions no longer owned).
func (p *Processor) lag(ctx context.Context, adm *kadm.Client, labels map[string][2]string) (int64, error) {
	p.mu.Lock()
	joined := p.joined
	p.mu.Unlock()
	if !joined {
		return -1, errNotJoined // owning nothing because the group is out of reach is not caught up
	}
	owned := p.Owned()
	if len(owned) == 0 {
		return 0, nil // a member with no partitions (more instances than partitions)
	}
	topics := p.d.kcfg.Topics.Inputs()
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return -1, err
	}
	committed, err := adm.FetchOffsets(ctx, p.d.cfg.GroupID)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return -1, err
	}
	var total int64
	seen := map[string]bool{}
	for _, t := range topics {
		for _, id := range owned {
			end, ok := ends.Lookup(t, id)
			if !ok {
				continue
			}
			at := int64(0)
			if c, ok := committed.Lookup(t, id); ok && c.At >= 0 {
				at = c.At
			}
			n := max(end.Offset-at, 0)
			total += n
			key := t + "/" + strconv.Itoa(int(id))
			seen[key] = true
			labels[key] = [2]string{t, strconv.Itoa(int(id))}
			p.d.m.lag.WithLabelValues(t, labels[key][1]).Set(float64(n))
		}
	}
	for key, l := range labels {
		if !seen[key] {
			p.d.m.lag.DeleteLabelValues(l[0], l[1])
			delete(labels, key)
		}
	}
	return total, nil
}
