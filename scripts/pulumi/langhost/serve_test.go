package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The host end to end: a running program (a Node script standing in for @pulumi/pulumi's
// cmd/run) is interrupted, and the host exits, when the engine stops answering.
func TestHostStopsItsProgramAndExitsWhenTheEngineIsGone(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "interrupted")
	script := filepath.Join(dir, "run.js")
	program := `
const fs = require("fs");
fs.writeFileSync(process.env.PID_FILE, String(process.pid));
process.on("SIGINT", () => { fs.writeFileSync(process.env.MARKER, "SIGINT"); process.exit(3); });
setInterval(() => {}, 1000);
`
	if err := os.WriteFile(script, []byte(program), 0o600); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	t.Setenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH", script)
	t.Setenv("PID_FILE", pidFile)
	t.Setenv("MARKER", marker)

	engine, stopEngine := fakeEngine(t)
	stdout, stdoutW := io.Pipe()
	settings := serveSettings{
		config: config{engineAddress: engine},
		watch: engineWatch{
			address: engine, healthEvery: 50 * time.Millisecond,
			healthTimeout: time.Second, healthFailures: 2,
		},
		grace: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- serve(settings, stdoutW, io.Discard) }()
	lines := bufio.NewReader(stdout)
	portLine, err := lines.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, lines) }()

	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(portLine),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pulumirpc.NewLanguageRuntimeClient(conn)
	ran := make(chan *pulumirpc.RunResponse, 1)
	go func() {
		resp, _ := client.Run(context.Background(), &pulumirpc.RunRequest{
			Pwd: dir, Program: ".", Info: &pulumirpc.ProgramInfo{ProgramDirectory: dir},
		})
		ran <- resp
	}()
	pid := waitForPid(t, pidFile)

	stopEngine()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the host still serves 10s after its engine stopped answering")
	}
	if got, _ := os.ReadFile(marker); string(got) != "SIGINT" {
		t.Fatalf("program was not interrupted (marker %q)", got)
	}
	if alive(pid) {
		t.Fatalf("program %d still running after the host stopped", pid)
	}
	select {
	case resp := <-ran:
		if resp != nil && resp.GetError() == "" && !resp.GetBail() {
			t.Fatalf("Run reported success for an interrupted program: %v", resp)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func waitForPid(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			pid, err := strconv.Atoi(string(b))
			if err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the program never started")
	return 0
}
