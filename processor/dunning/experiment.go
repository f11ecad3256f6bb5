package dunning

// Champion/challenger assignments (policy/experiment.go decides the arm;
// the state keeps it). An account's arm in an experiment is decided the
// first time it is evaluated under the experiment and kept for the
// experiment's life, so a later change of the challenger's share does not
// move it. Arms is treated as immutable: every change makes a new slice.

// ArmAssignment is one sticky assignment: the account is in the
// challenger arm of Experiment, or in its champion arm.
type ArmAssignment struct {
	Experiment string
	Challenger bool
}

// MaxArms bounds the assignments a state keeps (an account moves through
// few experiments): beyond it the oldest one not current is forgotten.
const MaxArms = 8

// ArmIn returns the account's kept arm in experiment, and whether it has
// one.
func (s State) ArmIn(experiment string) (challenger, ok bool) {
	for _, a := range s.Arms {
		if a.Experiment == experiment {
			return a.Challenger, true
		}
	}
	return false, false
}

// CurrentArm returns the experiment of the policy that last evaluated the
// account and the account's arm in it; ok false outside experiments.
func (s State) CurrentArm() (experiment string, challenger, ok bool) {
	if s.Experiment == "" {
		return "", false, false
	}
	challenger, ok = s.ArmIn(s.Experiment)
	return s.Experiment, challenger, ok
}

// InExperiment returns the state evaluated under experiment ("": none)
// with the arm kept: an arm the state already has for it wins over
// challenger (sticky). changed reports a new assignment or a new current
// experiment.
func (s State) InExperiment(experiment string, challenger bool) (n State, changed bool) {
	if experiment == "" {
		changed = s.Experiment != ""
		s.Experiment = ""
		return s, changed
	}
	if _, ok := s.ArmIn(experiment); !ok {
		arms := make([]ArmAssignment, 0, min(len(s.Arms)+1, MaxArms))
		drop := len(s.Arms) + 1 - MaxArms // how many of the oldest to forget
		for _, a := range s.Arms {
			if drop > 0 && a.Experiment != s.Experiment {
				drop--
				continue
			}
			arms = append(arms, a)
		}
		s.Arms = append(arms, ArmAssignment{Experiment: experiment, Challenger: challenger})
		changed = true
	}
	changed = changed || s.Experiment != experiment
	s.Experiment = experiment
	return s, changed
}

// writeArms appends the assignments and the current one's index (0 none,
// k+1 Arms[k]).
func (w *writer) writeArms(s State) {
	w.uvarint(uint64(len(s.Arms)))
	current := 0
	for k, a := range s.Arms {
		w.str(a.Experiment)
		b := byte(0)
		if a.Challenger {
			b = 1
		}
		w.b = append(w.b, b)
		if a.Experiment == s.Experiment {
			current = k + 1
		}
	}
	w.uvarint(uint64(current))
}

// readArms reads what writeArms wrote into n.
func (r *reader) readArms(n *State) {
	for i, c := 0, r.Count("arms", MaxArms, 2); i < c; i++ {
		id := r.Str("arm experiment")
		b := r.Byte("arm")
		if b > 1 || id == "" {
			r.Fail("arm")
		}
		n.Arms = append(n.Arms, ArmAssignment{Experiment: id, Challenger: b == 1})
	}
	if k := r.Uint("current arm", uint64(len(n.Arms))); k > 0 {
		n.Experiment = n.Arms[k-1].Experiment
	}
}
