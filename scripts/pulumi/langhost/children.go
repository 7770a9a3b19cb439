package main

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// children starts the host's Node processes and stops them politely:
//   - a child whose RPC is cancelled, or all of them when the host shuts down, gets SIGINT
//     and `grace` to exit before SIGKILL (exec.Cmd's Cancel + WaitDelay);
//   - each child gets SIGKILL from the kernel when the host dies (parent-death signal), so a
//     host killed with -9 leaves no Node process behind.
//
// Children stay in the host's process group: the engine interrupts and kills plugins by
// process group, so they are covered by that too.
type children struct {
	life    context.Context // ends when the host shuts down
	grace   time.Duration
	running sync.WaitGroup
}

func newChildren(life context.Context, grace time.Duration) *children {
	return &children{life: life, grace: grace}
}

// command prepares a child bound to ctx and to the host's life.
func (c *children) command(ctx context.Context, name string, args ...string) (*exec.Cmd, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.life, cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = c.grace
	return cmd, func() {
		stop()
		cancel()
	}
}

// run starts cmd and waits for it, counting it among the running children.
func (c *children) run(cmd *exec.Cmd) error {
	c.running.Add(1)
	defer c.running.Done()
	return cmd.Run()
}

// wait blocks until every running child has exited, or `within` has passed.
func (c *children) wait(within time.Duration) bool {
	done := make(chan struct{})
	go func() {
		c.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(within):
		return false
	}
}

// exitStatus is the child's exit code once it ran, -1 when it was killed by a signal, and
// ok=false when it never started.
func exitStatus(cmd *exec.Cmd) (code int, ok bool) {
	if cmd.ProcessState == nil {
		return -1, false
	}
	return cmd.ProcessState.ExitCode(), true
}
