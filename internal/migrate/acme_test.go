package migrate_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/migrate"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const (
	acmeExport = "testdata/acme-5.1.json"
	acmeCorpus = "../../../shared/conformance/acme.json"
)

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	set, err := policyload.Load(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func loadExport(t *testing.T, path string) *migrate.Export {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := migrate.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// redisDecider imports doc into a real Redis and decides through the
// central PDP's facts path (one Lua read per decision).
func redisDecider(t *testing.T, eng *engine.Engine, doc *orgdoc.Org) *pdp.Service {
	t.Helper()
	rdb := redistest.Shared(t).Client(t)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutOrg(context.Background(), doc, -1, store.Actor{Subject: "test"}); err != nil {
		t.Fatal(err)
	}
	r, err := facts.NewReader(st.Client(), facts.ReaderConfig{Prefix: st.OrgPrefix})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, r)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// The acme org's 5.1 export (testdata/acme-5.1.json: acme as it stood on
// 5.1, see docs/migration.md) migrates to a document on which every acme
// corpus case about a user who had access in 5.1 passes, decided through
// real Redis; the cases that fail are exactly those of bob, who had no
// runtime role in 5.1 (his acme shares are per environment, which 5.1
// could not express, and were made after the upgrade).
func TestAcmeCorpusOnMigratedDocument(t *testing.T) {
	cb, err := os.ReadFile(acmeCorpus)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent (a clone without ../shared)", acmeCorpus)
	}
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := orgdoc.DecodeCorpus(cb)
	if err != nil {
		t.Fatal(err)
	}
	e := loadExport(t, acmeExport)
	doc, _, err := migrate.Convert(e)
	if err != nil {
		t.Fatal(err)
	}
	m := migrate.NewModel51(e)
	var had []string
	for _, u := range e.Users {
		if m.HadAccess(u.ID) {
			had = append(had, u.ID)
		}
	}
	if want := []string{"u-alice", "u-carol", "u-hank", "u-ivan"}; !slices.Equal(had, want) {
		t.Fatalf("users with access in 5.1: %v, want %v", had, want)
	}
	eng := newEngine(t)
	svc := redisDecider(t, eng, doc)
	var failed []string
	concerned := 0
	for _, ev := range corpus.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			t.Fatal(err)
		}
		d, err := svc.Evaluate(context.Background(), r, nil)
		ok := err == nil && matches(ev.Expected, d)
		if slices.Contains(had, r.SubjectID()) && r.Org() == "acme" {
			concerned++
			if !ok {
				t.Errorf("%s (user %s had access in 5.1): expected %+v, got %+v (%v)", ev.Name, r.SubjectID(), ev.Expected, d, err)
			}
		}
		if !ok {
			failed = append(failed, ev.Name)
		}
	}
	if concerned != 29 {
		t.Errorf("%d cases concern users who had access in 5.1, want 29", concerned)
	}
	wantFailed := []string{
		"bob falls to the default build",
		"bob launches admin_console as Manager",
		"bob launches apply through his group's Clerk share",
		"bob: approveBtn enabled through Manager",
		"bob launches statement on cards through Back office",
		"bob starts loan_review on b1",
		"bob self-assigns in approval as Manager",
		"bob executes intake as Clerk",
	}
	sort.Strings(failed)
	sort.Strings(wantFailed)
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("failing cases:\n%q\nwant exactly bob's share-dependent ones:\n%q", failed, wantFailed)
	}
	// Business filters: attributes of users and groups moved over.
	local := &conformance.Local{Service: svc}
	res := conformance.Run(context.Background(), &orgdoc.Corpus{Filters: corpus.Filters}, local)
	if len(res.Failures) > 0 || res.Passed != len(corpus.Filters) {
		t.Errorf("filters: %+v", res)
	}
}

func matches(exp orgdoc.Expected, got decision.Decision) bool {
	if exp.Decision != got.Decision {
		return false
	}
	for k, v := range exp.Context {
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(got.Context[k])
		if string(a) != string(b) {
			return false
		}
	}
	return true
}

// The acme migration's report lists every change (counted by kind), the
// role overrides' suggestions, the users to invite; its replay, in memory
// and through real Redis, finds no difference for the four users who had
// access.
func TestAcmeMigrationReportAndReplay(t *testing.T) {
	e := loadExport(t, acmeExport)
	doc, rep, err := migrate.Convert(e)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		migrate.ChangeUserCreated: 14, migrate.ChangeRoleCreated: 7, migrate.ChangeGroupCreated: 4,
		migrate.ChangeFlowDefaultRole: 4, migrate.ChangeBuildRoleAdded: 0, migrate.ChangeActivePolicy: 5,
		migrate.ChangeEnvironmentCreated: 1, migrate.ChangeUsernameOverride: 1, migrate.ChangeGroupOverride: 2,
		migrate.ChangeRoleOverrideKept: 3, migrate.ChangeGroupShare: 7, migrate.ChangeUserShare: 0,
		migrate.ChangeLegacyGrant: 4, migrate.ChangeDesignerCarried: 1, migrate.ChangeFlowPermsCarried: 1,
		migrate.ChangeFiltersCarried: 1,
	}
	got := kinds(rep)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d changes of kind %s, want %d", got[k], k, n)
		}
	}
	if len(got) != len(want)-2 { // build.role_added and share.user_created: none
		t.Errorf("change kinds %v, want those of %v", got, want)
	}
	var sugg []string
	for _, s := range rep.Suggestions {
		sugg = append(sugg, s.Role+"->"+s.Group+" "+map[bool]string{true: "applied", false: "suggested"}[s.Applied]+" at "+s.Path)
	}
	if w := []string{
		"Early->Early access applied at projects[0].environments.prod.active_policy.overrides[3]",
		"Beta->Beta testers applied at projects[0].environments.prod.active_policy.overrides[4]",
		"Clerk-> suggested at projects[0].environments.prod.active_policy.overrides[5]",
	}; !slices.Equal(sugg, w) {
		t.Errorf("suggestions %q, want %q", sugg, w)
	}
	if !slices.Equal(rep.NotInvited, []string{"u-bob", "u-ivan"}) {
		t.Errorf("not invited %v", rep.NotInvited)
	}
	eng := newEngine(t)
	for name, after := range map[string]migrate.Decider{"memory": nil, "redis": redisDecider(t, eng, doc)} {
		rp, err := migrate.RunReplay(context.Background(), e, doc, eng, after)
		if err != nil {
			t.Fatal(err)
		}
		// 4 users x 5 (project, environment) pairs; every decision agrees.
		if rp.Users != 4 || rp.Questions != 142 || rp.Agreed != 142 || len(rp.Explained) != 0 || !rp.OK() {
			t.Errorf("%s replay: %d users, %d questions, %d agreed, explained %+v, unexplained %+v",
				name, rp.Users, rp.Questions, rp.Agreed, rp.Explained, rp.Unexplained)
		}
	}
}
