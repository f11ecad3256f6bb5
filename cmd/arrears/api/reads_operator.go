package api

import (
	"slices"
	"time"

	"github.com/arrears/arrears/processor/core"
)

// CallbackView is a call-back the customer asked for that has not become
// an agent task yet.
type CallbackView struct {
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	Queue string    `json:"queue"`
}

// operatorView fills what the operator events keep in the dunning state
// (dunning.Operator) the way the next evaluation reads it: the master
// exemptions less those an operator cleared (while the master list is the
// one cleared from) plus the operator's flags not yet ended; the operator's
// consents while the master consents are those they replaced; the
// cease-contact request, the last call and the pending call-backs.
func operatorView(v *AccountView, st *core.State, now time.Time) {
	o := st.Dunning.Operator
	if o == nil {
		return
	}
	m := st.Ledger.Master()
	if len(o.Cleared) > 0 && slices.Equal(o.ClearedBase, m.Exemptions) {
		v.Exemptions = slices.DeleteFunc(v.Exemptions, func(f string) bool { return slices.Contains(o.Cleared, f) })
	}
	for _, x := range o.Exemptions {
		if (x.Until.IsZero() || x.Until.After(now)) && !slices.Contains(v.Exemptions, x.Flag) {
			v.Exemptions = append(v.Exemptions, x.Flag)
		}
	}
	if o.ConsentsSet && slices.Equal(o.ConsentsBase, m.Consents) {
		v.Consents = v.Consents[:0]
		for _, c := range o.Consents {
			v.Consents = append(v.Consents, string(c))
		}
	}
	v.Preferred = string(o.Preferred)
	v.CeaseContact = o.Cease
	if o.Calls > 0 {
		v.LastCall = &CallView{At: o.LastCallAt.UTC(), Outcome: o.LastCall.String()}
	}
	for _, c := range o.Callbacks {
		v.Callbacks = append(v.Callbacks, CallbackView{ID: c.ID, At: c.At.UTC(), Queue: c.Queue})
	}
}
