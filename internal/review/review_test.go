package review_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/review"
)

// tiny: project p serves v1 in prod; u1 has a share, u2 only a legacy
// grant, u3 both, u4 a share but is disabled.
const tiny = `{"org": "tiny", "environments": ["prod"], "workspaces": [{"id": "ws"}],
 "users": [
  {"id": "u1", "username": "one", "status": "active"},
  {"id": "u2", "username": "two", "status": "active"},
  {"id": "u3", "username": "three", "status": "active"},
  {"id": "u4", "username": "four", "status": "disabled"}],
 "roles": [{"name": "R"}],
 "legacy_grants": [{"user": "u2", "role": "R"}, {"user": "u3", "role": "R"}],
 "projects": [{"id": "p", "workspace": "ws",
  "builds": [{"id": "v1", "branch": "main", "created": "2026-01-01T00:00:00Z", "roles": ["R"],
   "ui_flows": [{"id": "f", "roles": ["R"]}], "processes": []}],
  "environments": {"prod": {"active_policy": {"default": {"build": "v1"}, "overrides": []},
   "shares": [{"subject": {"user": "u1"}, "roles": ["R"]}, {"subject": {"user": "u3"}, "roles": ["R"]}, {"subject": {"user": "u4"}, "roles": ["R"]}]}}}]}`

// Inactivity is counted in whole days from last_seen to the review's time;
// a user never seen, or whose sighting does not parse, is listed; users
// with no access are not. Access that only legacy grants give is found by
// asking the engine again without them.
func TestInactiveAndLegacyOnly(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	set, err := policyload.Load(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		seen     map[string]string
		days     int
		inactive []string
	}{
		{"exactly the threshold is inactive", map[string]string{"u1": "2026-05-02T12:00:00Z", "u2": "2026-05-03T12:00:00Z", "u3": "2026-06-01T00:00:00Z", "u4": "2020-01-01T00:00:00Z"}, 30, []string{"u1"}},
		{"never seen", map[string]string{"u1": "2026-05-31T12:00:00Z", "u3": "2026-05-31T12:00:00Z"}, 30, []string{"u2"}},
		{"an unreadable sighting proves nothing", map[string]string{"u1": "yesterday", "u2": "2026-05-31T12:00:00Z", "u3": "2026-05-31T12:00:00Z"}, 30, []string{"u1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := orgdoc.DecodeOrg([]byte(tiny))
			if err != nil {
				t.Fatal(err)
			}
			for i := range o.Users {
				o.Users[i].LastSeen = c.seen[o.Users[i].ID]
			}
			r, err := review.Run(context.Background(), eng, review.FromDocument(o), review.Options{InactiveDays: c.days, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range r.Inactive {
				got = append(got, u.User)
			}
			if !slices.Equal(got, c.inactive) {
				t.Errorf("inactive %v (%+v), want %v", got, r.Inactive, c.inactive)
			}
			var legacy []string
			for _, l := range r.LegacyOnly {
				legacy = append(legacy, l.User)
			}
			if !slices.Equal(legacy, []string{"u2"}) {
				t.Errorf("legacy only %v, want [u2]", legacy)
			}
			var launch []string
			for _, a := range r.Access {
				if a.ResourceType == "ui_flow" {
					launch = append(launch, a.User)
				}
			}
			if !slices.Equal(launch, []string{"u1", "u2", "u3"}) {
				t.Errorf("launch f: %v", launch)
			}
		})
	}
}
