// Package train fits a risk scorecard from labelled history: it splits the
// rows by time (fit on the earlier period, measure on the later held-out
// period), fits an L2-regularised logistic regression by Newton's method
// (IRLS, solved with gonum's Cholesky), reports AUC, KS and a decile
// calibration table, and renders the fit as risk scorecard YAML with the
// standardisation folded into the weights.
//
// It is pure: the caller reads the history (ClickHouse) and writes the
// files; Train and (*Model).Scorecard only take and return values.
package train
