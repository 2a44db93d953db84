package authn_test

import (
	"net/http/httptest"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    string // "" means an Unauthenticated error
	}{
		{[]string{"Bearer abc.def.ghi"}, "abc.def.ghi"},
		{[]string{"bearer abc"}, "abc"},
		{[]string{"BEARER  abc=="}, "abc=="},
		{[]string{" Bearer abc "}, "abc"},
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"Bearer"}, ""},
		{[]string{"Bearer "}, ""},
		{[]string{"Basic dXNlcjpwdw=="}, ""},
		{[]string{"Bearerabc"}, ""},
		{[]string{"Bearer a b"}, ""},
		{[]string{"Bearer a=b"}, ""},
		{[]string{"Bearer abc", "Bearer def"}, ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range tc.headers {
			r.Header.Add("Authorization", h)
		}
		got, err := authn.BearerToken(r)
		if tc.want == "" {
			if verr.CodeOf(err) != verr.Unauthenticated {
				t.Errorf("%q: = %q, %v; want Unauthenticated", tc.headers, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: = %q, %v; want %q", tc.headers, got, err, tc.want)
		}
	}
}
