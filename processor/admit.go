package processor

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
)

// admit applies the envelope rules and the clock guard to one decoded
// record before it may touch state or time (docs/processing.md "Time" and
// "Envelope rules"):
//   - a record's key must equal its account_id (KEY_MISMATCH): a key that
//     differs would put the account's state on another partition;
//   - in live time, an event or ClockTick more than max_clock_skew ahead of
//     the wall clock is refused (FUTURE_EVENT_TIME) and never moves the
//     partition clock: one event dated 2099 would otherwise fire every
//     timer of the partition at once;
//   - in live time ClockTicks come only from the configured ticker source
//     (CLOCKTICK_SOURCE);
//   - a record of an account must sit on the partition its key belongs
//     to among n, the events topic's partition count (misroute.go: it is
//     forwarded there or dead-lettered, MISROUTED). ClockTicks are
//     addressed to their partition explicitly and are exempt. A copy
//     another consumer group forwarded is skipped before anything else.
//
// Late and back-dated events are admitted: they never move the clock back.
func (d *deps) admit(r *kgo.Record, ev *event.Event, n int32) error {
	if err := d.route.foreign(r); err != nil {
		return err // another group's copy: skipped, that group's business
	}
	tick := ev.Body.Kind() == event.KindClockTick
	if !tick && string(r.Key) != ev.Account {
		return rejectf("KEY_MISMATCH", "record key (%d bytes) differs from account_id", len(r.Key))
	}
	if d.cfg.Time == TimeLive {
		if tick && ev.Source != d.cfg.TickSource {
			return rejectf("CLOCKTICK_SOURCE", "ClockTick from source %q; live time accepts ticks only from %q", truncate(ev.Source, 64), d.cfg.TickSource)
		}
		if limit := d.now().Add(d.cfg.MaxClockSkew); ev.Time.After(limit) {
			return rejectf("FUTURE_EVENT_TIME", "event_time %s is more than %s ahead of the wall clock", ev.Time.UTC().Format(time.RFC3339), d.cfg.MaxClockSkew)
		}
	}
	if tick || ev.Account == "" { // no account: MISSING_ACCOUNT where it landed
		return nil
	}
	return d.route.check(r, ev.Source, n)
}

// truncate cuts s to n bytes for a reason text.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
