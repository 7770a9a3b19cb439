package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

type serveSettings struct {
	config config
	watch  engineWatch
	// grace is the time a cancelled child gets between SIGINT and SIGKILL.
	grace time.Duration
}

// serve runs the gRPC server until the engine is gone, the host is signalled, or the server
// fails; then it stops every Node child (SIGINT, grace, SIGKILL) before returning.
func serve(s serveSettings, stdout, stderr io.Writer) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	life, endLife := context.WithCancel(context.Background())
	defer endLife()
	h := newHost(s.config, newChildren(life, s.grace), stdout, stderr)
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(srv, h)

	// A write to the engine's closed pipe must return EPIPE, not kill the host before it has
	// stopped its children (Go exits on SIGPIPE for stdout/stderr unless it is notified).
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	defer signal.Stop(signals)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	// The engine reads the port from the first line of stdout.
	if _, err := fmt.Fprintf(stdout, "%d\n", lis.Addr().(*net.TCPAddr).Port); err != nil {
		srv.Stop()
		return fmt.Errorf("announcing the port: %w", err)
	}

	gone := make(chan string, 1)
	go func() {
		if reason := s.watch.run(life); reason != "" {
			gone <- reason
		}
	}()

	var result error
loop:
	for {
		select {
		case reason := <-gone:
			fmt.Fprintf(stderr, "pulumi-language-nodejs: the engine is gone (%s); stopping\n", reason)
			break loop
		case sig := <-signals:
			if sig == syscall.SIGPIPE {
				continue
			}
			break loop
		case err := <-served:
			if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				result = fmt.Errorf("serve: %w", err)
			}
			break loop
		}
	}
	// Interrupt the children first (their RPCs return once they exit), then close the server.
	endLife()
	h.children.wait(s.grace + time.Second)
	stopServer(srv, time.Second)
	return result
}

// stopServer stops gracefully when it can, forcibly after `within`.
func stopServer(srv *grpc.Server, within time.Duration) {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(within):
		srv.Stop()
	}
}
