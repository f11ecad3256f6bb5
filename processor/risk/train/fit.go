package train

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// design is a dense row-major design matrix; column 0 is the intercept.
type design struct {
	n, p int
	x    []float64 // n*p
	y    []float64 // 0 or 1
}

func (d *design) row(i int) []float64 { return d.x[i*d.p : (i+1)*d.p] }

// fitResult is a penalised maximum-likelihood fit.
type fitResult struct {
	beta       []float64
	iterations int
	converged  bool
}

// fitLogistic fits an L2-penalised logistic regression by Newton's method
// (IRLS): it maximises sum(y log p + (1-y) log(1-p)) - ½ Σ_j l2[j] β_j²,
// solving each Newton system with gonum's Cholesky factorisation and halving
// the step when the objective does not improve. l2[0] is the intercept's
// penalty (normally 0).
func fitLogistic(d *design, l2 []float64, maxIter int, tol float64) (fitResult, error) {
	p := d.p
	beta := make([]float64, p)
	grad := make([]float64, p)
	hess := mat.NewSymDense(p, nil)
	var chol mat.Cholesky
	step := mat.NewVecDense(p, nil)
	cand := make([]float64, p)
	obj := objective(d, beta, l2)
	for it := 1; it <= maxIter; it++ {
		for j := range grad {
			grad[j] = -l2[j] * beta[j]
		}
		h := make([]float64, p*p)
		for j := 0; j < p; j++ {
			h[j*p+j] = l2[j]
		}
		for i := 0; i < d.n; i++ {
			r := d.row(i)
			mu := sigmoid(dot(r, beta))
			w := mu * (1 - mu)
			if w < 1e-12 {
				w = 1e-12
			}
			res := d.y[i] - mu
			for j, xj := range r {
				if xj == 0 {
					continue
				}
				grad[j] += xj * res
				wx := w * xj
				for k := j; k < p; k++ {
					h[j*p+k] += wx * r[k]
				}
			}
		}
		for j := 0; j < p; j++ {
			for k := j; k < p; k++ {
				hess.SetSym(j, k, h[j*p+k])
			}
		}
		if ok := chol.Factorize(hess); !ok {
			return fitResult{}, errors.New("train: Hessian is not positive definite (collinear features? raise L2)")
		}
		if err := chol.SolveVecTo(step, mat.NewVecDense(p, grad)); err != nil {
			return fitResult{}, fmt.Errorf("train: Newton step: %w", err)
		}
		// step halving keeps the objective increasing
		scale := 1.0
		var newObj float64
		for half := 0; ; half++ {
			for j := range cand {
				cand[j] = beta[j] + scale*step.AtVec(j)
			}
			newObj = objective(d, cand, l2)
			if newObj >= obj-1e-12*math.Abs(obj) || half == 30 {
				break
			}
			scale /= 2
		}
		maxStep := 0.0
		for j := range beta {
			maxStep = math.Max(maxStep, math.Abs(cand[j]-beta[j]))
		}
		copy(beta, cand)
		obj = newObj
		if maxStep < tol {
			return fitResult{beta: beta, iterations: it, converged: true}, nil
		}
	}
	return fitResult{beta: beta, iterations: maxIter, converged: false}, nil
}

// objective is the penalised log-likelihood.
func objective(d *design, beta, l2 []float64) float64 {
	ll := 0.0
	for i := 0; i < d.n; i++ {
		eta := dot(d.row(i), beta)
		// log(1+exp(eta)) computed stably
		var soft float64
		if eta > 0 {
			soft = eta + math.Log1p(math.Exp(-eta))
		} else {
			soft = math.Log1p(math.Exp(eta))
		}
		ll += d.y[i]*eta - soft
	}
	for j, b := range beta {
		ll -= 0.5 * l2[j] * b * b
	}
	return ll
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
