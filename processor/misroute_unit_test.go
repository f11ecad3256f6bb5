package processor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
)

// TestAdmitRoute: admit passes a record on its key's murmur2 partition;
// a misrouted one is to be forwarded (processor.misrouted: forward) or
// dead-lettered (dead-letter) with MISROUTED naming both partitions; a
// copy this group forwarded that is misrouted again is dead-lettered in
// either mode (no loop); another group's copy is skipped wherever it is;
// ClockTicks and records without an account are exempt, and a key that
// is not the account id stays KEY_MISMATCH.
func TestAdmitRoute(t *testing.T) {
	const n = 6
	acct := "ACC-ROUTE"
	owner := kafkax.PartitionFor([]byte(acct), n)
	other := (owner + 1) % n
	inv := event.Event{Account: acct, Source: "billing", Body: &event.InvoiceIssued{}}
	tick := event.Event{Source: "test", Body: &event.ClockTick{Partition: other}}
	forwarded := []kgo.RecordHeader{{Key: HeaderForwardedFrom, Value: []byte("3/17")}, {Key: HeaderForwardedBy, Value: []byte("arrears")}}
	foreign := []kgo.RecordHeader{{Key: HeaderForwardedFrom, Value: []byte("3/17")}, {Key: HeaderForwardedBy, Value: []byte("replay")}}
	anonymous := []kgo.RecordHeader{{Key: HeaderForwardedFrom, Value: []byte("3/17")}}
	cases := []struct {
		name    string
		mode    string
		ev      event.Event
		key     string
		part    int32
		headers []kgo.RecordHeader
		want    string // "" admitted, "forward", "skip", or the dead-letter code
	}{
		{"on its partition", MisroutedForward, inv, acct, owner, nil, ""},
		{"forwarded copy on its partition", MisroutedForward, inv, acct, owner, forwarded, ""},
		{"misrouted, forward", MisroutedForward, inv, acct, other, nil, "forward"},
		{"misrouted, dead-letter", MisroutedDeadLetter, inv, acct, other, nil, "MISROUTED"},
		{"forwarded and misrouted again", MisroutedForward, inv, acct, other, forwarded, "MISROUTED"},
		{"forwarded and misrouted again, dead-letter", MisroutedDeadLetter, inv, acct, other, forwarded, "MISROUTED"},
		{"another group's copy on its partition", MisroutedForward, inv, acct, owner, foreign, "skip"},
		{"another group's copy misrouted", MisroutedDeadLetter, inv, acct, other, foreign, "skip"},
		{"a copy naming no group", MisroutedForward, inv, acct, owner, anonymous, "skip"},
		{"ClockTick on any partition", MisroutedForward, tick, "", other, nil, ""},
		{"no account", MisroutedForward, event.Event{Body: &event.InvoiceIssued{}}, "", other, nil, ""},
		{"key is not the account", MisroutedForward, inv, "ACC-OTHER", other, nil, "KEY_MISMATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Time, cfg.Misrouted = TimeSimulated, c.mode
			d := &deps{cfg: cfg, route: newRouter(cfg, "ar.events", nil)}
			r := &kgo.Record{Key: []byte(c.key), Partition: c.part, Headers: c.headers}
			ev := c.ev
			err := d.admit(r, &ev, n)
			var m *misrouted
			var rec *RecordError
			switch {
			case c.want == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case !errors.As(err, &rec):
				t.Fatalf("got %v, want a RecordError", err)
			case c.want == "forward":
				if !errors.As(err, &m) || m.action != "forward" || m.owner != owner || m.on != other {
					t.Fatalf("got %v, want a forward from %d to %d", err, other, owner)
				}
			case c.want == "skip":
				if !errors.As(err, &m) || m.action != "skip" {
					t.Fatalf("got %v, want skip", err)
				}
			case rec.Code != c.want:
				t.Fatalf("code %s (%v), want %s", rec.Code, err, c.want)
			case c.want == "MISROUTED":
				if !errors.As(err, &m) || m.action != "dead_letter" {
					t.Fatalf("got %v, want a dead letter, not a forward", err)
				}
				if msg := err.Error(); !strings.Contains(msg, "partition "+strconv.Itoa(int(other))) || !strings.Contains(msg, "partition "+strconv.Itoa(int(owner))+" of 6") {
					t.Errorf("reason %q does not name partitions %d and %d", msg, other, owner)
				}
				if c.headers != nil && !strings.Contains(err.Error(), "from partition 3/17") {
					t.Errorf("reason %q does not say where it was forwarded from", err)
				}
			}
			if err != nil && classify(err) != DeadLetter {
				t.Errorf("classified %v, want dead_letter (handled inside the transaction)", classify(err))
			}
		})
	}
}

// TestConfigMisrouted: processor.misrouted defaults to forward and Validate
// names the field for anything but forward or dead-letter.
func TestConfigMisrouted(t *testing.T) {
	c := Defaults()
	if c.Misrouted != MisroutedForward {
		t.Errorf("default processor.misrouted = %q, want forward", c.Misrouted)
	}
	c.Misrouted = MisroutedDeadLetter
	if err := c.Validate(); err != nil {
		t.Errorf("dead-letter refused: %v", err)
	}
	c.Misrouted = "drop"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "processor.misrouted") {
		t.Errorf("Validate(misrouted: drop) = %v, want an error naming processor.misrouted", err)
	}
}

// TestRouterPartitions (kfake): the partition count comes from the topic's
// metadata, is kept between batches, and is read again after a rebalance,
// so partitions added to the topic count from the next batch on; before
// the session's first assignment there is no count (a retry, not a guess).
func TestRouterPartitions(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ar.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	rt := newRouter(Defaults(), "ar.events", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := rt.partitions(ctx); err == nil {
		t.Fatalf("partitions before any assignment = %d, want an error", n)
	}
	rt.assigned(cl)
	if n, err := rt.partitions(ctx); err != nil || n != 2 {
		t.Fatalf("partitions = %d, %v; want 2", n, err)
	}
	if _, err := kadm.NewClient(cl).CreatePartitions(ctx, 1, "ar.events"); err != nil {
		t.Fatal(err)
	}
	if n, _ := rt.partitions(ctx); n != 2 {
		t.Errorf("partitions within a batch's lifetime = %d, want the kept 2 (no request per batch)", n)
	}
	rt.assigned(cl) // adding partitions to a subscribed topic rebalances the group
	if n, err := rt.partitions(ctx); err != nil || n != 3 {
		t.Errorf("partitions after the rebalance = %d, %v; want 3", n, err)
	}
}

// TestLogOncePerSource: the first misrouted record of each source is
// logged at Info with the partitions and never the key; a source is
// logged once, and at most maxLoggedSources of them are remembered.
func TestLogOncePerSource(t *testing.T) {
	var buf strings.Builder
	rt := newRouter(Defaults(), "ar.events", slog.New(slog.NewTextHandler(&buf, nil)))
	for i := range maxLoggedSources + 10 {
		for range 3 {
			r := &kgo.Record{Key: []byte("ACC-SECRET-KEY"), Partition: 1}
			var m *misrouted
			if !errors.As(rt.check(r, "producer-"+strconv.Itoa(i), 4), &m) {
				t.Fatal("a record on the wrong partition passed")
			}
			rt.logOnce("ar.events", m)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != maxLoggedSources {
		t.Errorf("%d log lines for %d sources of 3 records each, want %d", len(lines), maxLoggedSources+10, maxLoggedSources)
	}
	owner := strconv.Itoa(int(kafkax.PartitionFor([]byte("ACC-SECRET-KEY"), 4)))
	for _, l := range lines {
		if strings.Contains(l, "ACC-SECRET") || !strings.Contains(l, "level=INFO") || !strings.Contains(l, "partition=1 owner="+owner+" partitions=4") {
			t.Fatalf("log line %q: want Info with the partitions and without the key", l)
		}
	}
}
