package orgdoc

import (
	"fmt"
	"time"
)

// CreatedKeyLayout renders a build's creation time as its created_key: UTC,
// fixed width, nanoseconds. For years 0000 to 9999 such keys order as text
// exactly as the times they stand for, which is how the policies compare
// builds (rule 3, latest_on_branch) with no time builtin whose range the
// document could exceed.
const CreatedKeyLayout = "2006-01-02T15:04:05.000000000Z"

// CreatedKey returns the created_key of an RFC 3339 time, or an error when
// created is not RFC 3339 or its UTC year is outside 0000–9999 (the range in
// which keys order as text).
func CreatedKey(created string) (string, error) {
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return "", fmt.Errorf("created %q must be an RFC 3339 time", created)
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("created %q falls in UTC year %d, outside 0000-9999", created, y)
	}
	return t.Format(CreatedKeyLayout), nil
}
