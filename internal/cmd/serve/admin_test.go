package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/data"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// firstByteWriter records whether the PDP's cached facts of the org had been
// dropped when the answer's first byte (status line included) was handed to
// net/http, which may send it from then on (past its 2 KiB buffer, or on a
// flush): the caller can hold an acknowledgement from that moment.
type firstByteWriter struct {
	*httptest.ResponseRecorder
	invalidated *atomic.Bool
	started     bool
	before      bool // invalidated before the first byte
}

func (w *firstByteWriter) first() {
	if !w.started {
		w.started, w.before = true, w.invalidated.Load()
	}
}

func (w *firstByteWriter) WriteHeader(code int) { w.first(); w.ResponseRecorder.WriteHeader(code) }
func (w *firstByteWriter) Write(b []byte) (int, error) {
	w.first()
	return w.ResponseRecorder.Write(b)
}
func (w *firstByteWriter) WriteString(s string) (int, error) {
	w.first()
	return w.ResponseRecorder.WriteString(s)
}

// TestAdminWriteInvalidatesBeforeAcknowledging: read-your-writes. A write
// through this PDP's admin API drops the PDP's cached facts of the org
// before any byte of the answer can reach the caller, whatever the answer
// (a record, or 204); a refused write or a read drops nothing.
func TestAdminWriteInvalidatesBeforeAcknowledging(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	st, err := store.New(redistest.Start(t).Client(t), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(data.Demo())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutOrg(ctx, &c.Orgs[0], -1, store.Actor{Subject: "test"}); err != nil {
		t.Fatal(err)
	}
	var invalidated atomic.Bool
	var invalidations atomic.Int64
	r := gin.New()
	adminRoutes(st, nil, nil, &Config{}, func(org string) {
		if org == "demo" {
			invalidated.Store(true)
			invalidations.Add(1)
		}
	})(r)
	cases := []struct {
		name, method, path, body string
		status                   int
		invalidates              bool
	}{
		{"a write answered with its record", "POST", "/admin/v1/orgs/demo/users/u-tom/disable", "", 200, true},
		{"a write answered with 204", "DELETE", "/admin/v1/orgs/demo/users/u-sam", "", 204, true},
		{"a refused write", "POST", "/admin/v1/orgs/demo/users/u-nobody/disable", "", 404, false},
		{"a read", "GET", "/admin/v1/orgs/demo/users/u-tom", "", 200, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			invalidated.Store(false)
			invalidations.Store(0)
			w := &firstByteWriter{ResponseRecorder: httptest.NewRecorder(), invalidated: &invalidated}
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			r.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.status)
			}
			if tc.invalidates && !w.before {
				t.Errorf("the answer started before the PDP's cached facts of the org were dropped")
			}
			if n := invalidations.Load(); (n > 0) != tc.invalidates || n > 1 {
				t.Errorf("%d invalidations, want %v (once)", n, tc.invalidates)
			}
		})
	}
}

var _ http.ResponseWriter = (*firstByteWriter)(nil)
