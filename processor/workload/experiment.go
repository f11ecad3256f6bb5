package workload

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// ArmResponse gives the accounts of one champion/challenger experiment a
// response that depends on their arm, so that a generated book's
// challenger cures faster by a known amount (docs/policies.md "Reading an
// experiment"). The generator computes each account's arm with
// policy.Assign at Share, as the processor does for an account first
// evaluated at that share. For the accounts of Segment every bill then
// follows this simpler model instead of the latent-risk one:
//
//   - with probability OnTime it is paid in full in the 3 days before it
//     is due (so it never falls in the cure window of an earlier bill);
//   - otherwise it goes into arrears, and with probability Cure[arm]
//     (Cure[0] champion, Cure[1] challenger) it is paid in full 5 to 12
//     days after it is due (within 14 days of a first action on day 3
//     past due: cured), else 45 to 75 days after it is due (rolled past 30
//     days past due).
//
// No dispute, credit note, partial payment, promise or plan is drawn for
// them, so the cure rate of an arm's accounts entering dunning is exactly
// Cure[arm] in expectation and the true effect is Cure[1] - Cure[0].
type ArmResponse struct {
	Experiment string
	Share      float64
	Segment    event.Segment
	OnTime     float64
	Cure       [2]float64
}

// Validate names the bad field.
func (r *ArmResponse) Validate() error {
	switch {
	case r.Experiment == "":
		return fmt.Errorf("arm_response.experiment: must not be empty")
	case r.Share < 0 || r.Share > policy.MaxShare:
		return fmt.Errorf("arm_response.share: %g not in [0, %g]", r.Share, policy.MaxShare)
	case !r.Segment.Valid():
		return fmt.Errorf("arm_response.segment: %q is not a segment", r.Segment)
	case r.OnTime < 0 || r.OnTime > 1:
		return fmt.Errorf("arm_response.on_time: %g not in [0, 1]", r.OnTime)
	case r.Cure[0] < 0 || r.Cure[0] > 1 || r.Cure[1] < 0 || r.Cure[1] > 1:
		return fmt.Errorf("arm_response.cure: %v not in [0, 1]", r.Cure)
	}
	return nil
}

// Challenger reports whether the account is in the challenger arm.
func (r *ArmResponse) Challenger(account string) bool {
	return policy.Assign(r.Experiment, account, r.Share)
}

// armBill schedules the payment of a bill of an experiment account under
// ArmResponse and reports true; false (drawing nothing) for any other
// account, which keeps the latent-risk model and the same random stream.
func (g *Generator) armBill(a *Account, amt event.Amount, invoiceID string, dueAt time.Time, terms int) bool {
	r := g.o.ArmResponse
	if r == nil || a.Segment != r.Segment {
		return false
	}
	if g.r.Float64() < r.OnTime {
		g.pay(a, dueAt.Add(-time.Duration(1+g.r.IntN(min(72, terms*24-1)))*time.Hour), amt, invoiceID)
		return true
	}
	arm := 0
	if r.Challenger(a.ID) {
		arm = 1
	}
	day := due0(dueAt)
	if g.r.Float64() < r.Cure[arm] {
		g.pay(a, day.AddDate(0, 0, 5+g.r.IntN(8)).Add(time.Duration(10*60+g.r.IntN(8*60))*time.Minute), amt, invoiceID)
	} else {
		g.pay(a, day.AddDate(0, 0, 45+g.r.IntN(31)).Add(time.Duration(10*60+g.r.IntN(8*60))*time.Minute), amt, invoiceID)
	}
	return true
}

// due0 is midnight UTC of the due instant's day.
func due0(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseArmResponse reads the gen flag's form,
// "experiment=EXP-2026-12,share=0.1,segment=postpaid,on_time=0.5,cure=0.35/0.65"
// (on_time defaults to 0.5, segment to postpaid), and validates it.
func ParseArmResponse(s string) (*ArmResponse, error) {
	r := &ArmResponse{Segment: event.Postpaid, OnTime: 0.5}
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || seen[k] {
			return nil, fmt.Errorf("arm response %q: want key=value pairs, each once", kv)
		}
		seen[k] = true
		var err error
		switch k {
		case "experiment":
			r.Experiment = v
		case "share":
			r.Share, err = strconv.ParseFloat(v, 64)
		case "segment":
			r.Segment = event.Segment(v)
		case "on_time":
			r.OnTime, err = strconv.ParseFloat(v, 64)
		case "cure":
			a, b, ok := strings.Cut(v, "/")
			if !ok {
				return nil, fmt.Errorf("arm_response.cure: %q: want CHAMPION/CHALLENGER, e.g. 0.35/0.65", v)
			}
			if r.Cure[0], err = strconv.ParseFloat(a, 64); err == nil {
				r.Cure[1], err = strconv.ParseFloat(b, 64)
			}
		default:
			return nil, fmt.Errorf("arm response: unknown key %q (experiment, share, segment, on_time, cure)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("arm_response.%s: %w", k, err)
		}
	}
	if !seen["cure"] || !seen["share"] {
		return nil, fmt.Errorf("arm response %q: needs experiment, share and cure", s)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}
