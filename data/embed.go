// Package data embeds the demo organization that `verdict serve --dev`
// (make run) serves, so the binary needs no files beside it.
package data

import _ "embed"

//go:embed demo.json
var demo []byte

// Demo returns the demo corpus: the demo org document plus the decisions it
// must give.
func Demo() []byte { return demo }
