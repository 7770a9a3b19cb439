package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCancelInterruptsTheChildFirst(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "interrupted")
	c := newChildren(context.Background(), 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cmd, done := c.command(ctx, "sh", "-c",
		`trap 'echo SIGINT > "$MARKER"; exit 7' INT; echo ready; while :; do sleep 0.05; done`)
	defer done()
	cmd.Env = append(os.Environ(), "MARKER="+marker)
	waitReady(t, cmd)
	cancel()
	start := time.Now()
	_ = cmd.Wait()
	if code, _ := exitStatus(cmd); code != 7 {
		t.Fatalf("exit code %d, want 7 (the child's own SIGINT handler)", code)
	}
	if got, _ := os.ReadFile(marker); strings.TrimSpace(string(got)) != "SIGINT" {
		t.Fatalf("the child saw %q, want SIGINT", got)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("waited %v for a child that exits on SIGINT", elapsed)
	}
}

func TestCancelKillsAChildThatIgnoresSIGINTAfterTheGrace(t *testing.T) {
	grace := 400 * time.Millisecond
	c := newChildren(context.Background(), grace)
	ctx, cancel := context.WithCancel(context.Background())
	cmd, done := c.command(ctx, "sh", "-c", `trap '' INT; echo ready; exec sleep 30`)
	defer done()
	waitReady(t, cmd)
	cancel()
	start := time.Now()
	_ = cmd.Wait()
	elapsed := time.Since(start)
	if elapsed < grace {
		t.Fatalf("killed after %v, before the grace of %v", elapsed, grace)
	}
	if elapsed > grace+3*time.Second {
		t.Fatalf("still waiting %v after cancel", elapsed)
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", cmd.ProcessState)
	}
}

func TestHostShutdownInterruptsEveryChild(t *testing.T) {
	life, end := context.WithCancel(context.Background())
	c := newChildren(life, 5*time.Second)
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		cmd, done := c.command(context.Background(), "sh", "-c",
			`trap 'exit 9' INT; while :; do sleep 0.05; done`)
		defer done()
		go func() {
			_ = c.run(cmd)
			code, _ := exitStatus(cmd)
			results <- code
		}()
	}
	time.Sleep(300 * time.Millisecond) // both shells have set their trap
	end()
	if !c.wait(3 * time.Second) {
		t.Fatal("children still running 3s after the host's shutdown")
	}
	for i := 0; i < 2; i++ {
		if code := <-results; code != 9 {
			t.Fatalf("child exit code %d, want 9 (interrupted)", code)
		}
	}
}

// A host killed with -9 cannot stop its children itself: the kernel's parent-death signal
// does. The test runs this test binary as a host (helperHost below) and kills it.
func TestChildrenDieWithAKilledHost(t *testing.T) {
	if os.Getenv("LANGHOST_HELPER") == "1" {
		helperHost()
		return
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestChildrenDieWithAKilledHost$")
	helper.Env = append(os.Environ(), "LANGHOST_HELPER=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper host: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "child ")))
	if err != nil {
		t.Fatalf("helper host said %q", line)
	}
	if !alive(child) {
		t.Fatalf("child %d is not running before the host is killed", child)
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for alive(child) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("child %d outlived its killed host by 3s", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func helperHost() {
	c := newChildren(context.Background(), time.Second)
	cmd, _ := c.command(context.Background(), "sleep", "30")
	if err := cmd.Start(); err != nil {
		os.Exit(2)
	}
	os.Stdout.WriteString("child " + strconv.Itoa(cmd.Process.Pid) + "\n")
	_ = cmd.Wait()
	os.Exit(0)
}

// alive is true while pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// waitReady starts cmd and waits for its first stdout line.
func waitReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child did not get ready: %q %v", line, err)
	}
}
