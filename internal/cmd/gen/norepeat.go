package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// ScreenSize is the number of distinct items of one screen (MixScreens).
const ScreenSize = 100

// scatter maps indexes to distinct (user, project, environment, item)
// tuples. Index i of a space of users × projects × environments × n items is
// split into digits (u0 = i mod users, then the item digit, then the
// project and environment digit q), and the digits are mixed so that
// consecutive indexes differ in every coordinate (user u0·a mod users with a
// coprime to users; item, project and environment shifted by u0). The map is
// one-to-one: from a tuple, u0 comes back from the user (a is invertible),
// then the item digit, then q. So enumerating i without repetition never
// repeats a tuple.
type scatter struct {
	users, projects, n, a int
}

func newScatter(users, projects, n int) scatter {
	return scatter{users: users, projects: projects, n: n, a: coprimeNear(users)}
}

// size is the number of distinct tuples.
func (s scatter) size() int { return s.users * s.projects * len(envs) * s.n }

// at is tuple i (0 <= i < size()).
func (s scatter) at(i int) (user, project, env, item int) {
	u0 := i % s.users
	t := i / s.users
	it := t % s.n
	q := t / s.n // < projects × environments
	return u0 * s.a % s.users, (q%s.projects + u0 + it) % s.projects, (q/s.projects + u0 + it) % len(envs), (it + u0) % s.n
}

// coprimeNear returns a multiplier coprime to n, about 0.618·n (so that
// consecutive users are far apart), 1 for n <= 2.
func coprimeNear(n int) int {
	if n <= 2 {
		return 1
	}
	for a := max(n*618/1000, 1); ; a++ {
		if gcd(a, n) == 1 {
			return a
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// writeNoRepeat writes c.Requests requests no two of which are alike: each
// request's kind is drawn in the shares of mixes, and each kind enumerates
// its own space of (user, project, environment, item) without repetition.
// A kind whose space is used up (a small org asked for many requests) drops
// out and the others keep their relative shares; when every kind is used up
// the org has no more distinct requests to give, and that is an error.
func writeNoRepeat(enc *json.Encoder, r *rand.Rand, c Config) error {
	spaces := map[string]scatter{}
	next := map[string]int{}
	done := map[string]bool{}
	for kind, its := range items {
		spaces[kind] = newScatter(c.Users, c.Projects, len(its))
	}
	for n := range c.Requests {
		kind := drawKind(r, done)
		if kind == "" {
			return fmt.Errorf("--mix %s: the org has only %d distinct requests, %d asked: ask for fewer or generate more users", MixNoRepeat, n, c.Requests)
		}
		s := spaces[kind]
		u, p, e, it := s.at(next[kind])
		if next[kind]++; next[kind] == s.size() {
			done[kind] = true
		}
		if err := enc.Encode(items[kind][it].request(c.Org, fmt.Sprintf("u%d", u), fmt.Sprintf("p%d", p), envs[e])); err != nil {
			return err
		}
	}
	return nil
}

// screenItems are the ScreenSize items of a screen: every UI flow, every
// component, then swimlane rights.
var screenItems = func() []item {
	var out []item
	for _, kind := range []string{"ui_flow", "component", "swimlane"} {
		out = append(out, items[kind]...)
	}
	return out[:ScreenSize]
}()

// writeScreens writes c.Requests/ScreenSize screens: screen k is one user in
// one project and environment (the scatter of k: no screen repeats) asking
// about every item of screenItems.
func writeScreens(enc *json.Encoder, c Config) error {
	s := newScatter(c.Users, c.Projects, 1)
	screens := c.Requests / ScreenSize
	if screens > s.size() {
		return fmt.Errorf("--mix %s: the org has only %d distinct screens, %d asked: ask for fewer or generate more users", MixScreens, s.size(), screens)
	}
	for k := range screens {
		u, p, e, _ := s.at(k)
		for _, it := range screenItems {
			if err := enc.Encode(it.request(c.Org, fmt.Sprintf("u%d", u), fmt.Sprintf("p%d", p), envs[e])); err != nil {
				return err
			}
		}
	}
	return nil
}
