// Package cliflag holds what the subcommands share about their arguments.
package cliflag

import "flag"

// Parse parses args with fs, letting flags follow positional arguments
// (`verdict check a.json --url X`), which the flag package alone does not,
// and returns the positional arguments in order.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
