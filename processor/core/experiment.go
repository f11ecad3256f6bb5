package core

import (
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Champion/challenger in the step (docs/policies.md "Experiments"): the
// policy an account's selection picks may run an experiment; the account's
// arm in it is the one its state keeps, else policy.Assign's, and decides
// which of the two policies runs. evaluate then keeps that arm in the
// state (sticky from the first evaluation under the experiment) and
// stamps the experiment and arm on the actions; the status carries them.

// armPolicy returns the policy for an account that set's selection gives
// champion: the challenger policy in the challenger arm, else champion.
func armPolicy(set *policy.Set, st *State, champion *policy.Policy) *policy.Policy {
	c, _, ok := set.Experiment(champion) // Select never gives a challenger
	if !ok {
		return champion
	}
	return set.ForArm(champion, st.challenger(c))
}

// challenger reports the account's arm in c's experiment: the kept one,
// else the hash's at c's share.
func (st *State) challenger(c *policy.Challenger) bool {
	if ch, ok := st.Dunning.ArmIn(c.Experiment); ok {
		return ch
	}
	return policy.Assign(c.Experiment, st.accountID(), c.Share)
}

// noteExperiment keeps in st the experiment pol takes part in (none when
// pol is nil or outside experiments) and the account's arm, and reports a
// change of the state.
func noteExperiment(st *State, set *policy.Set, pol *policy.Policy) bool {
	c, challenger, ok := set.Experiment(pol)
	id := ""
	if ok {
		id = c.Experiment
	}
	if id == "" && st.Dunning.Experiment == "" {
		return false
	}
	ds, changed := st.Dunning.InExperiment(id, challenger)
	st.Dunning = ds
	return changed
}

// experiment returns the experiment id and arm to carry on outputs ("",
// "" outside experiments).
func (st *State) experiment() (id, arm string) {
	exp, challenger, ok := st.Dunning.CurrentArm()
	if !ok {
		return "", ""
	}
	return exp, policy.Arm(challenger)
}

// stampExperiment puts the account's experiment and arm on actions.
func stampExperiment(st *State, actions []event.DunningAction) {
	id, arm := st.experiment()
	if id == "" {
		return
	}
	for i := range actions {
		actions[i].ExperimentID, actions[i].Arm = id, arm
	}
}
