// Package version is `verdict version`: the version of the binary, of the
// OPA it embeds and of Go. The version comes from the linker
// (-X github.com/verdict-pdp/verdict/internal/cmd/version.version=…, which
// `make build` sets from git describe), else from the module version Go
// records (`go install …@v1.2.3`), else from the VCS stamp, else "devel".
package version

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// version is set by the linker; see the package doc.
var version string

const opaModule = "github.com/open-policy-agent/opa"

// Info is what `verdict version` prints.
type Info struct {
	Version  string // this binary's
	Revision string // VCS revision, when recorded ("" otherwise)
	OPA      string // the OPA module version built in
	Go       string // runtime.Version()
}

// Get returns the build's Info.
func Get() Info {
	info := Info{Version: version, Go: runtime.Version(), OPA: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == opaModule {
				info.OPA = d.Version
				if d.Replace != nil {
					info.OPA = d.Replace.Version
				}
			}
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if info.Revision != "" && modified {
			info.Revision += "-dirty"
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

// String is the one line `verdict version` prints.
func (i Info) String() string {
	s := "verdict " + i.Version
	if i.Revision != "" {
		s += " (" + i.Revision + ")"
	}
	return fmt.Sprintf("%s, OPA %s, %s %s/%s", s, i.OPA, i.Go, runtime.GOOS, runtime.GOARCH)
}

// Run runs `verdict version`.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("version", "",
		`Prints the version of this binary, of the OPA it embeds (the Rego it evaluates) and of Go.`,
		"verdict version")
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	fmt.Fprintln(stdout, Get())
	return 0
}
