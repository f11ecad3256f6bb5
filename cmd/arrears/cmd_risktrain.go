package main

import (
	"context"
	"errors"
)

// cmdRiskTrain is wired when the ClickHouse training query lands.
func cmdRiskTrain(context.Context, []string) error {
	return errors.New("risk train: not built yet")
}
