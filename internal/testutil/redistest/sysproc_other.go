//go:build !linux

package redistest

import "syscall"

// Elsewhere there is no Pdeathsig: the Shared redis-server process may outlive
// a test binary that crashed. Servers from Start are still killed at cleanup.
func dieWithParent() *syscall.SysProcAttr { return nil }

func ownProcessGroup() *syscall.SysProcAttr { return nil }
