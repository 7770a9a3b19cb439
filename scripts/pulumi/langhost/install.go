package main

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type streamWriter struct {
	send   func(*pulumirpc.InstallDependenciesResponse) error
	stderr bool
	mu     *sync.Mutex
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := bytes.Clone(p)
	r := &pulumirpc.InstallDependenciesResponse{Stdout: b}
	if w.stderr {
		r = &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	if err := w.send(r); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetDirectory()
	if dir == "" {
		dir = programDir(req.GetInfo(), "")
	}
	pm := parseOptions(req.GetInfo().GetOptions()).packageManager
	switch pm {
	case "npm", "yarn", "pnpm", "bun":
	default:
		return status.Errorf(codes.InvalidArgument, "unsupported packagemanager %q", pm)
	}
	mu := &sync.Mutex{}
	out := streamWriter{send: stream.Send, mu: mu}
	errw := streamWriter{send: stream.Send, stderr: true, mu: mu}
	fmt.Fprintf(out, "Installing dependencies with %s install in %s...\n", pm, dir)
	cmd, done := h.children.command(stream.Context(), pm, "install")
	defer done()
	cmd.Dir = dir
	cmd.Stdout = io.Writer(out)
	cmd.Stderr = io.Writer(errw)
	if err := h.children.run(cmd); err != nil {
		return fmt.Errorf("%s install failed: %w", pm, err)
	}
	fmt.Fprintln(out, "Finished installing dependencies")
	return nil
}
