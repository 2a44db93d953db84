package test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// demoPDP starts verdict serve on a real Redis holding the demo org.
func demoPDP(t *testing.T) (base string, redisURL string) {
	return demoPDPOver(t, "http")
}

// demoPDPOver starts verdict serve over http, or https with mutual TLS.
func demoPDPOver(t *testing.T, scheme string) (base string, redisURL string) {
	_, url := demoRedis(t)
	pdp := startPDP(t, withScheme(t, scheme, serve.Config{RedisURL: url, Auth: "none", DefaultOrg: "demo"}))
	return scheme + "://" + pdp.Addr, url
}

// demoRedis starts a real Redis holding the demo org.
func demoRedis(t *testing.T) (*redistest.Server, string) {
	rs := redistest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	return rs, rs.URL()
}

func TestBatchEvaluations(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) { testBatchEvaluations(t, scheme) })
	}
}

func testBatchEvaluations(t *testing.T, scheme string) {
	base, _ := demoPDPOver(t, scheme)
	var out struct{ Evaluations []answer }
	body := map[string]any{
		"subject":  map[string]any{"type": "user", "id": "u-tom"},
		"action":   map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "ui_flow", "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"environment": "prod"},
		"evaluations": []any{
			map[string]any{"resource": map[string]any{"id": "apply"}},
			map[string]any{"resource": map[string]any{"id": "review"}},
			map[string]any{"resource": map[string]any{"id": "calculator"}},
			map[string]any{"subject": map[string]any{"id": "u-maria"}, "resource": map[string]any{"id": "calculator"}},
			map[string]any{"action": map[string]any{"name": 7}},
		},
	}
	if code := post(t, base+"/access/v1/evaluations", "", body, &out); code != 200 {
		t.Fatalf("batch: %d", code)
	}
	want := []bool{true, true, false, true, false}
	if len(out.Evaluations) != len(want) {
		t.Fatalf("got %d answers: %+v", len(out.Evaluations), out)
	}
	for i, w := range want {
		if out.Evaluations[i].Decision != w {
			t.Errorf("item %d: %+v, want %v", i, out.Evaluations[i], w)
		}
	}
	if out.Evaluations[4].Context["reason"] != "invalid_input" {
		t.Errorf("an invalid item answers false with its error: %+v", out.Evaluations[4])
	}
	body["options"] = map[string]any{"evaluations_semantic": "deny_on_first_deny"}
	post(t, base+"/access/v1/evaluations", "", body, &out)
	if len(out.Evaluations) != 3 {
		t.Errorf("deny_on_first_deny stops at the first deny (item 3): %d answers", len(out.Evaluations))
	}
	body["options"] = map[string]any{"evaluations_semantic": "permit_on_first_permit"}
	post(t, base+"/access/v1/evaluations", "", body, &out)
	if len(out.Evaluations) != 1 {
		t.Errorf("permit_on_first_permit stops at the first permit: %d answers", len(out.Evaluations))
	}
	var single answer
	if code := post(t, base+"/access/v1/evaluations", "", map[string]any{
		"subject": body["subject"], "action": body["action"], "context": body["context"],
		"resource":    map[string]any{"type": "ui_flow", "id": "review", "properties": map[string]any{"project": "mortgage"}},
		"evaluations": []any{},
	}, &single); code != 200 || !single.Decision {
		t.Errorf("empty evaluations answer as one evaluation: %d %+v", code, single)
	}
	body["options"] = map[string]any{"evaluations_semantic": "most_of_them"}
	if code := post(t, base+"/access/v1/evaluations", "", body, nil); code != 400 {
		t.Errorf("unknown semantic: %d, want 400", code)
	}
}

func TestSearches(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) { testSearches(t, scheme) })
	}
}

func testSearches(t *testing.T, scheme string) {
	base, _ := demoPDPOver(t, scheme)
	type result struct {
		Results []map[string]string
		Page    struct {
			NextToken string `json:"next_token"`
		}
	}
	var r result
	post(t, base+"/access/v1/search/resource", "", map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-maria"}, "action": map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "ui_flow", "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"environment": "prod"},
	}, &r)
	if len(r.Results) != 2 || r.Results[0]["id"] != "apply" || r.Results[1]["id"] != "calculator" || r.Page.NextToken != "" {
		t.Errorf("maria's UI flows on m2: %+v", r)
	}
	post(t, base+"/access/v1/search/action", "", map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-lee"}, "resource": map[string]any{"type": "project", "id": "mortgage"},
	}, &r)
	if len(r.Results) != 3 || r.Results[0]["name"] != "edit" {
		t.Errorf("lee's actions on mortgage: %+v", r)
	}
	// Who may launch review in prod: tom (Teller), lee and ada (bypass: owner
	// and org_admin), one per page.
	var ids []string
	tok := ""
	for range 10 {
		post(t, base+"/access/v1/search/subject", "", map[string]any{
			"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "launch"},
			"resource": map[string]any{"type": "ui_flow", "id": "review", "properties": map[string]any{"project": "mortgage"}},
			"context":  map[string]any{"environment": "prod"}, "page": map[string]any{"limit": 1, "token": tok},
		}, &r)
		for _, x := range r.Results {
			ids = append(ids, x["id"])
		}
		if tok = r.Page.NextToken; tok == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != "u-ada" || ids[1] != "u-lee" || ids[2] != "u-tom" {
		t.Errorf("subjects who launch review: %v", ids)
	}
	if code := post(t, base+"/access/v1/search/resource", "", map[string]any{"subject": map[string]any{"type": "user"}}, nil); code != 400 {
		t.Errorf("resource search without subject id: %d", code)
	}
	post(t, base+"/access/v1/search/resource", "", map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-nobody"}, "action": map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "spaceship"},
	}, &r)
	if len(r.Results) != 0 {
		t.Errorf("unknown type: %+v", r)
	}
}

func TestOPADataAPIFiltersAndMetadata(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) { testOPADataAPIFiltersAndMetadata(t, scheme) })
	}
}

func testOPADataAPIFiltersAndMetadata(t *testing.T, scheme string) {
	base, _ := demoPDPOver(t, scheme)
	var res map[string]any
	post(t, base+"/v1/data/verdict/main/decision", "", map[string]any{"input": map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"environment": "prod"},
	}}, &res)
	if r, _ := res["result"].(map[string]any); r["decision"] != true {
		t.Errorf("data API decision: %v", res)
	}
	res = nil
	post(t, base+"/v1/data/verdict/main/decision/nothing/here", "", map[string]any{"input": map[string]any{}}, &res)
	if _, ok := res["result"]; ok || res == nil {
		t.Errorf("undefined document below a rule: %v, want {}", res)
	}
	// A path no policy defines is refused and costs nothing (docs/limits.md).
	if code := post(t, base+"/v1/data/verdict/nothing/here", "", map[string]any{"input": map[string]any{}}, nil); code != 404 {
		t.Errorf("a path no policy defines: %d, want 404", code)
	}
	var f struct {
		Field  string
		Values []string
		SQL    struct{ Where string }
	}
	post(t, base+"/v1/filters/applications_by_branch", "", map[string]any{"user": "u-tom"}, &f)
	if f.Field != "applications.branch" || len(f.Values) != 2 || f.SQL.Where != "WHERE applications.branch IN (E'harbour', E'north')" {
		t.Errorf("filter: %+v", f)
	}
	if code := post(t, base+"/v1/filters/nope", "", map[string]any{"user": "u-tom"}, nil); code != 404 {
		t.Errorf("unknown filter: %d", code)
	}
	req, _ := http.NewRequest("GET", base+"/.well-known/authzen-configuration", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	if meta["policy_decision_point"] != base || meta["access_evaluations_endpoint"] != base+"/access/v1/evaluations" || resp.Header.Get("X-Request-ID") != "abc-123" {
		t.Errorf("metadata: %v %v", meta, resp.Header)
	}
	resp2, err := httpc.Post(base+"/access/v1/evaluation", "text/plain", bytes.NewReader([]byte(`{}`)))
	if err != nil || resp2.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %v, want 415", resp2.StatusCode)
	}
	metrics, err := httpc.Get(base + "/metrics")
	if err != nil || metrics.StatusCode != 200 {
		t.Fatalf("metrics: %v", err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(metrics.Body)
	for _, m := range []string{"verdict_decisions_total", "verdict_decision_duration_seconds", "verdict_facts_cache_hits_total"} {
		if !bytes.Contains(buf.Bytes(), []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// TestWriteReachesDecisions: a share written to Redis changes the next
// decisions of a PDP (change feed, cache invalidation). How fast is a
// benchmark figure (BenchmarkWriteToDecision); the deadline here only
// keeps a broken build from hanging.
func TestWriteReachesDecisions(t *testing.T) {
	base, redisURL := demoPDP(t)
	w := newShareWriter(t, redisURL)
	if d, _ := tryAskFlow(base, "u-maria", "review"); d.Decision {
		t.Fatal("maria launches review before the share")
	}
	for _, want := range []bool{true, false} {
		w.write(t, want)
		waitFlow(t, base, "u-maria", "review", want)
	}
}

// shareWriter gives maria's group the Teller role on mortgage in prod, or
// takes it away, through the store (as the admin API does).
type shareWriter struct {
	st  *store.Store
	org *orgdoc.Org
}

func newShareWriter(t testing.TB, redisURL string) *shareWriter {
	st, err := store.Open(store.Config{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o, _, err := st.GetOrg(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return &shareWriter{st: st, org: o}
}

func (w *shareWriter) write(t testing.TB, teller bool) {
	roles := []string{"Customer"}
	if teller {
		roles = append(roles, "Teller")
	}
	w.org.Projects[0].Environments["prod"].Shares[0].Roles = roles
	if _, err := w.st.PutOrg(context.Background(), w.org, -1, store.Actor{Subject: "e2e"}); err != nil {
		t.Fatal(err)
	}
}

// waitFlow polls until user's answer on flow is want (hang guard only).
func waitFlow(t testing.TB, base, user, flow string, want bool) {
	deadline := time.Now().Add(hangGuard)
	for {
		if d, ok := tryAskFlow(base, user, flow); ok && d.Decision == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s is not %v after %v", user, flow, want, hangGuard)
		}
		time.Sleep(time.Millisecond)
	}
}

// hangGuard bounds every wait of these tests: far above any delay expected
// even on a loaded machine, it only keeps a broken build from hanging.
const hangGuard = 2 * time.Minute

func tryAskFlow(base, user, flow string) (answer, bool) {
	b, _ := json.Marshal(map[string]any{
		"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "ui_flow", "id": flow, "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"org": "demo", "environment": "prod"},
	})
	resp, err := httpc.Post(base+"/access/v1/evaluation", "application/json", bytes.NewReader(b))
	if err != nil {
		return answer{}, false
	}
	defer resp.Body.Close()
	var d answer
	return d, json.NewDecoder(resp.Body).Decode(&d) == nil
}
