package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as indented JSON (for notebooks).
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the two replays side by side with the difference.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 1, ' ', 0)
	fmt.Fprintf(w, "simulate %s .. %s: %d accounts, %d landed records", r.From.Format("2006-01-02T15:04:05Z"),
		r.Until.Format("2006-01-02T15:04:05Z"), r.Accounts, r.Records)
	if r.Sample > 0 {
		fmt.Fprintf(w, " (sample of %d accounts)", r.Sample)
	}
	fmt.Fprintf(w, "\ncandidate: %s\n\n", strings.Join(r.Changed, ", "))
	a, c := &r.Active, &r.Candidate
	fmt.Fprintf(tw, "\t%12s\t%12s\t%12s\n", "active", "candidate", "change")
	row := func(name string, x, y float64, prec int) {
		fmt.Fprintf(tw, "%s\t%12.*f\t%12.*f\t%+12.*f\n", name, prec, x, prec, y, prec, y-x)
	}
	count := func(name string, x, y int) { row(name, float64(x), float64(y), 0) }
	keys := slices.Sorted(maps.Keys(merge(a.Actions, c.Actions)))
	for _, k := range keys {
		count("actions "+k, a.Actions[k], c.Actions[k])
	}
	count("contacts", a.Contacts, c.Contacts)
	row("contact cost", a.ContactCost, c.ContactCost, 2)
	count("suspensions", a.Suspensions, c.Suspensions)
	count("accounts suspended", a.SuspendedAccounts, c.SuspendedAccounts)
	count("accounts to agency", a.AgencyAccounts, c.AgencyAccounts)
	count("accounts to legal", a.LegalAccounts, c.LegalAccounts)
	count("accounts written off", a.WriteOffAccounts, c.WriteOffAccounts)
	count("accounts contacted", a.ContactedAccounts, c.ContactedAccounts)
	row("mean days past due at first contact", a.MeanDaysToFirstContact, c.MeanDaysToFirstContact, 2)
	count("contact deferrals", a.Deferrals, c.Deferrals)
	count("wake-ups", a.Wakes, c.Wakes)
	if e := r.Response; e != nil {
		row(fmt.Sprintf("ESTIMATE cures within %d days (historical)", e.CureDays), e.Active.Cures, e.Candidate.Cures, 2)
		row(fmt.Sprintf("ESTIMATE cash within %d days (historical)", e.CureDays), e.Active.Cash, e.Candidate.Cash, 2)
		count("actions with no historical rate", e.Active.Unrated, e.Candidate.Unrated)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if e := r.Response; e != nil {
		fmt.Fprintf(w, "ESTIMATE (--response historical), not an observation: %s\n\n", e.Method)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func merge(a, b map[string]int) map[string]int {
	m := maps.Clone(a)
	for k, v := range b {
		m[k] += v
	}
	return m
}
