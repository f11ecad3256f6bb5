package dunning

import "github.com/arrears/arrears/processor/event"

// amounts is an amount per currency, kept sorted by currency. An account
// owes in one or two currencies, so a short slice is cheaper than a map
// (one evaluation used to allocate a map and a sorted key slice) and its
// order is the deterministic one the explanations print.
type amounts []currencyAmount

type currencyAmount struct {
	Currency event.Currency
	Amount   event.Amount
}

// get is the amount in c (0 when absent).
func (as amounts) get(c event.Currency) event.Amount {
	for _, a := range as {
		if a.Currency == c {
			return a.Amount
		}
	}
	return 0
}

// add adds v to c's amount, inserting c in order when absent.
func (as *amounts) add(c event.Currency, v event.Amount) {
	s := *as
	i := 0
	for ; i < len(s); i++ {
		if s[i].Currency == c {
			s[i].Amount += v
			return
		}
		if s[i].Currency > c {
			break
		}
	}
	s = append(s, currencyAmount{})
	copy(s[i+1:], s[i:])
	s[i] = currencyAmount{Currency: c, Amount: v}
	*as = s
}
