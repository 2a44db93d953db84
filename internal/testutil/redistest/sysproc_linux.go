package redistest

import "syscall"

// dieWithParent makes the kernel SIGKILL the child when its parent dies, so a
// redis-server never outlives the test binary (even one that crashed).
// Pdeathsig fires when the forking OS thread exits; Go only ends threads whose
// goroutine locked them and exited, which the testing package does not do.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ownProcessGroup keeps the reaper out of the terminal's process group, so a
// Ctrl-C that kills the test binary does not kill the reaper before it reaps.
func ownProcessGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
