package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/testutil/apispec"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const httpDoc = "../../../docs/http-api.md"

// docClient checks each exchange against the OpenAPI description.
var docClient = &http.Client{Transport: apispec.Central().Transport(nil)}

// docExample is one curl command of docs/http-api.md and the JSON shown
// after it, if any.
type docExample struct {
	line    int
	curl    string
	answer  string // "" when the page shows no answer
	method  string
	url     string
	headers http.Header
	body    *string
}

// TestHTTPDocExamples runs every curl of docs/http-api.md, in order, against
// a central PDP configured like `make run` (the demo org, sign-in off,
// default org demo; on a real Redis), and checks each answer shown is part
// of the real one: the page is what a user following it gets.
func TestHTTPDocExamples(t *testing.T) {
	examples := parseDoc(t, httpDoc)
	if len(examples) < 20 {
		t.Fatalf("%s: %d curl examples found: the parse is broken", httpDoc, len(examples))
	}
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../../../data/demo.json", "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	cfg := &Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "demo", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	// Every example is also an exchange the OpenAPI description must fit.
	apispec.Central().Watch(t, srv.Addr)
	for _, ex := range examples {
		status, got := ex.send(t, srv.Addr)
		var want any
		if ex.answer != "" {
			if err := json.Unmarshal([]byte(ex.answer), &want); err != nil {
				t.Fatalf("%s:%d: the answer shown is not JSON: %v", httpDoc, ex.line, err)
			}
		}
		obj, _ := want.(map[string]any)
		_, isError := obj["error"]
		if (status < 200 || status > 299) && !isError {
			t.Errorf("%s:%d: %s\nHTTP %d %s", httpDoc, ex.line, ex.curl, status, got)
			continue
		}
		if want == nil {
			continue
		}
		var have any
		if err := json.Unmarshal(got, &have); err != nil {
			t.Errorf("%s:%d: %s\nHTTP %d, not JSON: %s", httpDoc, ex.line, ex.curl, status, got)
			continue
		}
		if path, ok := contains(have, want, "$"); !ok {
			t.Errorf("%s:%d: %s\nthe page shows %s\nthe server answers (HTTP %d) %s\nfirst difference at %s", httpDoc, ex.line, ex.curl, ex.answer, status, got, path)
		}
	}
}

// send runs the example against addr, with the Host header of the page's
// URL (answers that name the server's URL then read as on the page).
func (ex docExample) send(t *testing.T, addr string) (int, []byte) {
	t.Helper()
	url := ex.url
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	host := strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[0]
	var body io.Reader
	if ex.body != nil {
		body = strings.NewReader(*ex.body)
	}
	req, err := http.NewRequest(ex.method, strings.Replace(url, host, addr, 1), body)
	if err != nil {
		t.Fatalf("%s:%d: %v", httpDoc, ex.line, err)
	}
	req.Host = host
	req.Header = ex.headers
	resp, err := docClient.Do(req)
	if err != nil {
		t.Fatalf("%s:%d: %v", httpDoc, ex.line, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// contains reports whether have holds want: equal scalars, objects with at
// least want's members (each contained), arrays of the same length with
// each element contained. It returns the path of the first difference.
func contains(have, want any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range w {
			hv, present := h[k]
			if !present {
				return path + "." + k, false
			}
			if p, ok := contains(hv, v, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := contains(h[i], w[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(have, want)
}

// parseDoc returns the curl commands of a Markdown page (```sh blocks) and
// the ```json block that follows each, if one follows directly.
func parseDoc(t *testing.T, file string) []docExample {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	type block struct {
		lang, text string
		line       int
		prose      bool // non-blank prose since the previous block
	}
	var blocks []block
	lines := strings.Split(string(raw), "\n")
	prose := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "```") {
			if strings.TrimSpace(l) != "" {
				prose = true
			}
			continue
		}
		b := block{lang: strings.TrimPrefix(l, "```"), line: i + 1, prose: prose}
		var text []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			text = append(text, lines[i])
		}
		b.text = strings.Join(text, "\n")
		blocks = append(blocks, b)
		prose = false
	}
	var out []docExample
	for i, b := range blocks {
		if b.lang != "sh" || !strings.HasPrefix(b.text, "curl ") {
			continue
		}
		ex := docExample{line: b.line, curl: b.text}
		if i+1 < len(blocks) && blocks[i+1].lang == "json" && !blocks[i+1].prose {
			ex.answer = blocks[i+1].text
		}
		if err := ex.parseCurl(); err != nil {
			t.Fatalf("%s:%d: %v", file, b.line, err)
		}
		out = append(out, ex)
	}
	return out
}

// parseCurl reads the options of the curl commands the page uses, with
// curl's own defaults (POST with -d, a form content type unless a header
// says otherwise), so that a command missing its Content-Type fails here as
// it fails for a reader.
func (ex *docExample) parseCurl() error {
	words, err := shellWords(strings.ReplaceAll(ex.curl, "\\\n", " "))
	if err != nil {
		return err
	}
	ex.headers = http.Header{}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs a value", w)
			}
			i++
			return words[i], nil
		}
		switch w {
		case "-s", "-sS", "--silent":
		case "-X", "--request":
			if ex.method, err = next(); err != nil {
				return err
			}
		case "-H", "--header":
			h, err := next()
			if err != nil {
				return err
			}
			k, v, ok := strings.Cut(h, ":")
			if !ok {
				return fmt.Errorf("header %q", h)
			}
			ex.headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case "-d", "--data", "--data-binary":
			d, err := next()
			if err != nil {
				return err
			}
			if strings.HasPrefix(d, "@") {
				return fmt.Errorf("%s %s: bodies from files are not run by this test", w, d)
			}
			ex.body = &d
		case "-o", "--output":
			if _, err := next(); err != nil {
				return err
			}
		default:
			if strings.HasPrefix(w, "-") {
				return fmt.Errorf("curl option %s is not understood by this test", w)
			}
			if ex.url != "" {
				return fmt.Errorf("two URLs: %s and %s", ex.url, w)
			}
			ex.url = w
		}
	}
	if ex.url == "" {
		return fmt.Errorf("no URL")
	}
	if ex.method == "" {
		ex.method = http.MethodGet
		if ex.body != nil {
			ex.method = http.MethodPost
		}
	}
	if ex.body != nil && ex.headers.Get("Content-Type") == "" {
		ex.headers.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil
}

// shellWords splits a command line as sh does for the quoting the page
// uses: single quotes, double quotes with backslash escapes, bare words.
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false // a word is being built
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			in = true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
