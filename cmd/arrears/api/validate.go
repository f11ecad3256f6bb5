package api

import "regexp"

var accountIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// checkAccountID is the path's {id}: 1-128 of letters, digits, . _ : -.
func checkAccountID(id string) *FieldError {
	if !accountIDRE.MatchString(id) {
		return &FieldError{"id", "an account id: 1-128 of letters, digits, . _ : -"}
	}
	return nil
}
