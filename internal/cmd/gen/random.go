package gen

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
)

// WriteRandom writes orggen's random org of c.Seed (indented JSON), or with
// c.Requests > 0 that many random requests about it, one JSON object per
// line. c.Org, when set, replaces the org id (in the requests too).
func WriteRandom(w io.Writer, c Config) error {
	o := orggen.Org(c.Seed)
	if c.Org != "" {
		o.Org = c.Org
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if c.Requests == 0 {
		enc.SetIndent("", " ")
		if err := enc.Encode(o); err != nil {
			return err
		}
		return bw.Flush()
	}
	for _, r := range orggen.Requests(o, c.Seed, c.Requests) {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}
