package risk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// Config tunes when a score becomes a risk event.
type Config struct {
	// PDDelta emits an event when the PD moved by more than this (absolute)
	// since the last emitted PD, even within the same tier. 0 disables it:
	// only tier changes emit. Default 0.05.
	PDDelta float64 `yaml:"pd_delta"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config { return Config{PDDelta: 0.05} }

// Validate reports a bad field.
func (c Config) Validate() error {
	if !(c.PDDelta >= 0 && c.PDDelta < 1) {
		return fmt.Errorf("%w: pd_delta %v: must be in [0, 1)", ErrInvalidConfig, c.PDDelta)
	}
	return nil
}

// Decide turns a score into at most one risk event. It emits when the tier
// differs from the last emitted tier (including the first score of an
// account, whose previous tier is "") or when the PD moved by more than
// cfg.PDDelta since the last emitted PD; otherwise it returns st unchanged
// and nil. A Result with no tier (the zero Result) never emits.
//
// The event id hashes the account, the model version, the triggering event
// id and the account's emit sequence, so replaying the same input from the
// same state gives the same ids. now is the partition clock.
func Decide(st State, r Result, cfg Config, accountID string, now time.Time, eventID string) (State, *event.RiskEvent) {
	if r.Tier == "" {
		return st, nil
	}
	pd := QuantizePD(r.PD) // the resolution kept and emitted (state.go)
	changed := r.Tier != st.Tier
	moved := cfg.PDDelta > 0 && math.Abs(pd-st.PD) > cfg.PDDelta
	if !changed && !moved {
		return st, nil
	}
	reasons := make([]event.ReasonCode, r.NumReasons)
	copy(reasons, r.Reasons[:r.NumReasons])
	ev := &event.RiskEvent{
		EventID:      riskEventID(accountID, r.ModelVersion, eventID, st.Seq),
		Account:      accountID,
		Time:         now,
		Score:        r.Score,
		PD:           pd,
		Tier:         r.Tier,
		PreviousTier: st.Tier,
		Reasons:      reasons,
		ModelVersion: r.ModelVersion,
	}
	return State{Tier: r.Tier, PD: pd, Seq: st.Seq + 1}, ev
}

// riskEventID is 32 hex digits of SHA-256 over length-prefixed fields.
func riskEventID(account, model, trigger string, seq uint32) string {
	var stack [256]byte
	b := stack[:0]
	for _, s := range [...]string{"risk", account, model, trigger} {
		b = varint.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = varint.AppendUvarint(b, uint64(seq))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
