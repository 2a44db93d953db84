package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// chromium finds Debian's Chromium (scripts/ensure-chromium.sh installs it;
// `make test` runs that first). Without it the browser tests cannot run:
// under CI that fails, elsewhere it skips, saying how to install it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed: run scripts/ensure-chromium.sh (make test does)")
	}
	t.Skip("Chromium is not installed: run scripts/ensure-chromium.sh (make test does) to run the browser tests")
	return ""
}

// browser is one headless Chromium for the whole test, and the screenshots
// of the pages it went through, written out if the test fails.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots []shot
}

type shot struct {
	name string
	png  []byte
}

func newBrowser(t *testing.T) *browser {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	// A hang guard, not a measure: the whole walk takes seconds.
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		// On failure, and when asked (VERDICT_SCREENSHOTS=1), to look at.
		if t.Failed() || os.Getenv("VERDICT_SCREENSHOTS") != "" {
			b.writeShots()
		}
		cancelC()
		cancelB()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// do runs steps, then keeps a screenshot of the page under name; a failing
// step fails the test (and the screenshots are written).
func (b *browser) do(name string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	err := chromedp.Do(b.ctx, steps...)
	b.t.Logf("%s: %v", name, time.Since(start).Round(time.Millisecond))
	// Quality 100 is a PNG.
	if png, serr := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); serr == nil {
		b.shots = append(b.shots, shot{name, png})
	}
	if err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		b.t.Fatalf("%s: %v\n  at %s\n  page: %.1500s", name, err, url, body)
	}
}

func (b *browser) writeShots() {
	dir, err := os.MkdirTemp("", "verdict-console-"+b.t.Name()+"-")
	if err != nil {
		return
	}
	for i, s := range b.shots {
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.png", i, strings.ReplaceAll(s.name, " ", "_"))), s.png, 0o644)
	}
	b.t.Logf("screenshots of each page: %s", dir)
}

// eval runs an action that gives a value.
func eval[T any](b *browser, name string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.do(name, chromedp.Func(func(context.Context, *chromedp.Target) error { return err }))
	}
	return v
}

// text reads the visible text of the element sel names.
func (b *browser) text(name string, sel chromedp.CSS) string {
	b.t.Helper()
	return eval(b, name, chromedp.Text(sel))
}

// scripts turns the page's JavaScript on or off.
func scripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// unlabeled lists the form fields of the page without a label.
const unlabeled = `Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
	.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)`

func (b *browser) checkLabels(page string) {
	b.t.Helper()
	if missing := eval(b, page+" labels", chromedp.Evaluate[[]string](unlabeled)); len(missing) > 0 {
		b.t.Errorf("%s: inputs without a label: %v", page, missing)
	}
}

// TestConsoleInBrowser signs in through the test issuer (authorization code
// with PKCE, a login form the browser fills), creates a group, shares a role
// with it for an environment in the Share dialog, watches the simulator's
// answer for a user change when they would join the group, saves that, and
// finds the lines in the audit trail. Along the way: labels on every input,
// keyboard navigation of the Share dialog, a page read with JavaScript off.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t)
	rs := redistest.Start(t)
	raw, err := os.ReadFile("../../data/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PutOrg(context.Background(), &c.Orgs[0], -1, store.Actor{Subject: "test"}); err != nil {
		t.Fatal(err)
	}
	issuer := oidctest.Start(t)
	issuer.AddUser("ada", map[string]any{"sub": "u-ada", "org": "demo"})
	issuer.AddUser("tom", map[string]any{"sub": "u-tom", "org": "demo"})
	cfg := serve.Config{Addr: "127.0.0.1:0", RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr + "/console"

	// A callback that no sign-in of this server started is refused: the
	// state binds a code to the sign-in that asked for it.
	if resp, err := http.Get(base + "/callback?state=forged&code=stolen"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with an unknown state: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Sign in: the console sends the browser to the issuer, which asks who.
	b.do("sign-in form", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")))
	b.do("signed in", chromedp.SendKeys(chromedp.ID("username"), "ada"), chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("org")))
	if org := b.text("org shown", "#org"); org != "demo" {
		t.Fatalf("signed in to org %q", org)
	}

	// End-Users, with JavaScript off: the page reads the same.
	b.do("users without JavaScript", scripts(false), chromedp.Navigate(base+"/users"),
		chromedp.WaitVisible(chromedp.CSS("table")))
	if s := b.text("users table", "table"); !strings.Contains(s, "maria") || !strings.Contains(s, "invited") {
		t.Errorf("End-Users table: %s", s)
	}
	b.do("JavaScript back on", scripts(true))
	b.checkLabels("End-Users")

	// A new group, with an attribute of two comma-separated values.
	b.do("groups", chromedp.Navigate(base+"/groups"), chromedp.WaitVisible(chromedp.ID("name")))
	b.checkLabels("End-Users Groups")
	b.do("group created", chromedp.SendKeys(chromedp.ID("name"), "Night shift"),
		chromedp.SendKeys(chromedp.ID("attr_key_0"), "region"), chromedp.SendKeys(chromedp.ID("attr_values_0"), "north, harbour"),
		chromedp.Click(chromedp.CSS(`form[action="/console/groups"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".ok")))
	if s := b.text("group page", ".ok"); !strings.Contains(s, "Group Night shift created") {
		t.Errorf("group page: %s", s)
	}
	if v := eval(b, "attribute", chromedp.Evaluate[string](`document.getElementById("attr_values_0").value`)); v != "north, harbour" {
		t.Errorf("group attribute region: %q", v)
	}
	b.checkLabels("End-Users Group")

	// The simulator before: maria has no role in uat, and joining the empty
	// group would change nothing.
	sim := base + "/test?project=mortgage&env=uat&who=user:u-maria&add_group=Night+shift"
	b.do("simulator, group without roles", chromedp.Navigate(sim), chromedp.WaitVisible(chromedp.ID("diff")))
	if s := b.text("no change", "#diff"); !strings.Contains(s, "Nothing would change") {
		t.Errorf("joining a group without roles: %s", s)
	}
	if s := b.text("maria now", ".manifest .access"); !strings.Contains(s, "cannot open the solution") {
		t.Errorf("maria in uat before: %s", s)
	}
	b.checkLabels("Test as a user")

	// The Share dialog of mortgage in uat: only the active build's roles;
	// the keyboard goes from the subject to the roles.
	b.do("share dialog", chromedp.Navigate(base+"/solutions/mortgage/uat/share"), chromedp.WaitVisible(chromedp.ID("subject")))
	b.checkLabels("Share")
	roles := eval(b, "roles offered", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('input[name=roles]')).map(e => e.value)`))
	if strings.Join(roles, ",") != "Customer,Teller,Supervisor" {
		t.Errorf("roles offered: %v", roles)
	}
	b.do("keyboard", chromedp.Focus(chromedp.ID("subject")), chromedp.KeyEvent("\t"))
	focused := eval(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "role_0" {
		t.Errorf("Tab from the subject lands on %q, want the first role", focused)
	}
	b.do("shared", chromedp.SetValue(chromedp.ID("subject"), "group:Night shift"),
		chromedp.Click(chromedp.CSS(`input[name=roles][value=Teller]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/uat/share"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".ok")))
	if s := b.text("shares", "table"); !strings.Contains(s, "Night shift") || !strings.Contains(s, "Teller") {
		t.Errorf("shares after sharing: %s", s)
	}

	// The simulator again: now joining the group opens the solution.
	b.do("simulator, group with Teller", chromedp.Navigate(sim), chromedp.WaitVisible(chromedp.ID("diff")))
	diff := b.text("diff", "#diff")
	for _, want := range []string{"Solution: cannot open (no runtime role) → can open, build m2 (default)", "UI flow review: not offered → can launch"} {
		if !strings.Contains(diff, want) {
			t.Errorf("simulator diff lacks %q:\n%s", want, diff)
		}
	}
	b.do("saved", chromedp.Click(chromedp.CSS(`button[name=save][value=group]`)), chromedp.WaitVisible(chromedp.CSS(".ok")))
	if s := b.text("saved message", ".ok"); !strings.Contains(s, "u-maria added to group Night shift") {
		t.Errorf("save: %s", s)
	}
	if s := b.text("maria after", ".manifest .access"); !strings.Contains(s, "can open the solution: build m2") {
		t.Errorf("maria in uat after saving: %s", s)
	}

	// The audit trail, by target and by actor.
	b.do("audit", chromedp.Navigate(base+"/audit?target=Night+shift"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.checkLabels("Audit")
	audit := b.text("audit lines", "tbody")
	for _, want := range []string{"group.created", "share.put", "group.members_added", "u-ada", "project/mortgage/environments/uat/shares/groups/Night shift"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit by target lacks %q:\n%s", want, audit)
		}
	}
	if strings.Contains(audit, "user.") {
		t.Errorf("the target filter let other lines through:\n%s", audit)
	}
	b.do("audit by actor", chromedp.Navigate(base+"/audit?actor=nobody-acted"), chromedp.WaitVisible(chromedp.CSS("table")))
	if s := b.text("no lines", "tbody"); !strings.Contains(s, "No change matches") {
		t.Errorf("audit by an actor who did nothing: %s", s)
	}

	// Rule 10: tom is no admin; signed in, he is refused.
	b.do("sign out", chromedp.Navigate(base+"/users"), chromedp.Click(chromedp.CSS(`header form button`)),
		chromedp.WaitVisible(chromedp.ID("signed-out")))
	b.do("sign in again", chromedp.Navigate(base+"/users"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	b.do("tom signs in", chromedp.SendKeys(chromedp.ID("username"), "tom"), chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("org")), chromedp.Navigate(base+"/users"), chromedp.WaitVisible(chromedp.CSS(".error")))
	if s := b.text("tom refused", ".error"); !strings.Contains(s, "may not org_runtime_users_read") {
		t.Errorf("tom on End-Users: %s", s)
	}
}
