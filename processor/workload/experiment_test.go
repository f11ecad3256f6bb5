package workload

import (
	"math"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestArmResponse: with an ArmResponse, the experiment segment's bills not
// paid on time are paid within 12 days of their due date at the arm's
// cure probability (the rest 45 days or more after); other segments keep
// the latent-risk model, and without one the stream is the same as before.
func TestArmResponse(t *testing.T) {
	r := &ArmResponse{Experiment: "EXP-T", Share: 0.3, Segment: event.Postpaid, OnTime: 0.5, Cure: [2]float64{0.3, 0.6}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	o := Options{Seed: 3, Accounts: 4000, Months: 3, Partitions: 4}
	plain, _, _ := digest(o)
	o.ArmResponse = r
	g := New(o)
	seg := map[string]event.Segment{}
	due := map[string]event.Date{}
	amount := map[string]event.Amount{}
	unpaid := map[string][]string{}
	account := map[string]string{}
	paidDPD := map[string]int{}
	var late, cured [2]int
	onTime, bills := 0, 0
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		switch b := ev.Body.(type) {
		case *event.AccountUpserted:
			seg[ev.Account] = b.Segment
		case *event.InvoiceIssued:
			due[b.InvoiceID], amount[b.InvoiceID] = b.DueDate, b.Amount
			unpaid[ev.Account] = append(unpaid[ev.Account], b.InvoiceID)
			account[b.InvoiceID] = ev.Account
		case *event.DisputeOpened, *event.ArrangementCreated, *event.InvoiceAdjusted:
			if seg[ev.Account] == event.Postpaid {
				t.Fatalf("%T drawn for an experiment account", b)
			}
		case *event.PaymentReceived:
			if seg[ev.Account] != event.Postpaid {
				continue
			}
			if len(b.InvoiceIDs) > 1 {
				t.Fatalf("payment names %d invoices", len(b.InvoiceIDs))
			}
			// The bill it pays: each is paid once, in full; the one it
			// names, else the earliest unpaid one of that amount.
			dpd, found := 0, ""
			for i, inv := range unpaid[ev.Account] {
				if amount[inv] == b.Amount && (len(b.InvoiceIDs) == 0 || b.InvoiceIDs[0] == inv) {
					dpd, found = int(event.DateOf(ev.Time)-due[inv]), inv
					unpaid[ev.Account] = append(unpaid[ev.Account][:i:i], unpaid[ev.Account][i+1:]...)
					break
				}
			}
			if found == "" {
				t.Fatalf("%s: payment of %s matches no bill", ev.Account, b.Amount)
			}
			paidDPD[found] = dpd
		}
	}
	end := event.DateOf(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	for inv, d := range due {
		acct := account[inv]
		if seg[acct] != event.Postpaid || d+13 >= end {
			continue
		}
		arm := 0
		if r.Challenger(acct) {
			arm = 1
		}
		bills++
		dpd, paid := paidDPD[inv]
		switch {
		case paid && dpd <= 0:
			onTime++
		case paid && dpd >= 5 && dpd <= 12:
			late[arm]++
			cured[arm]++
		case !paid || dpd >= 45:
			late[arm]++
		default:
			t.Fatalf("%s paid %d days past due: not in the model", acct, dpd)
		}
	}
	if share := float64(onTime) / float64(bills); math.Abs(share-r.OnTime) > 0.03 {
		t.Errorf("on time %.3f of %d bills, want about %.2f", share, bills, r.OnTime)
	}
	for arm := range 2 {
		p := float64(cured[arm]) / float64(late[arm])
		se := math.Sqrt(r.Cure[arm] * (1 - r.Cure[arm]) / float64(late[arm]))
		if math.Abs(p-r.Cure[arm]) > 4*se {
			t.Errorf("arm %d: %d of %d late bills cured (%.3f), want %.2f", arm, cured[arm], late[arm], p, r.Cure[arm])
		}
	}
	o.ArmResponse = nil
	if again, _, _ := digest(o); again != plain {
		t.Error("without an ArmResponse the stream changed")
	}
}

func TestParseArmResponse(t *testing.T) {
	r, err := ParseArmResponse("experiment=EXP-1,share=0.1,cure=0.35/0.65")
	if err != nil || r.Experiment != "EXP-1" || r.Share != 0.1 || r.Cure != [2]float64{0.35, 0.65} || r.Segment != event.Postpaid || r.OnTime != 0.5 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"", "experiment=E,share=0.1", "experiment=E,share=0.7,cure=0.1/0.2", "experiment=E,share=0.1,cure=0.1",
		"experiment=E,share=0.1,cure=0.1/2", "experiment=E,share=0.1,cure=0.1/0.2,segment=retail", "experiment=E,share=x,cure=0.1/0.2",
		"experiment=E,share=0.1,share=0.2,cure=0.1/0.2", "experiment=E,share=0.1,cure=0.1/0.2,colour=red"} {
		if _, err := ParseArmResponse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
