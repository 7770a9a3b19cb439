package main

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// fakeEngine serves only the gRPC health service, like the engine's host server.
func fakeEngine(t *testing.T) (address string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), srv.Stop
}

func TestWatchNoticesTheParentExiting(t *testing.T) {
	var calls atomic.Int32
	w := engineWatch{
		parentPID:   4242,
		parentEvery: 10 * time.Millisecond,
		getppid: func() int {
			if calls.Add(1) < 5 {
				return 4242
			}
			return 1 // re-parented to init: the engine died
		},
	}
	reason := watchWithin(t, w, 2*time.Second)
	if !strings.Contains(reason, "parent process 4242 exited (now 1)") {
		t.Fatalf("reason = %q", reason)
	}
	if calls.Load() < 5 {
		t.Fatalf("gave up after %d checks, before the parent changed", calls.Load())
	}
}

func TestWatchNoticesTheEngineNotAnswering(t *testing.T) {
	address, stop := fakeEngine(t)
	w := engineWatch{
		address:        address,
		healthEvery:    20 * time.Millisecond,
		healthTimeout:  time.Second,
		healthFailures: 2,
	}
	time.AfterFunc(200*time.Millisecond, stop)
	start := time.Now()
	reason := watchWithin(t, w, 5*time.Second)
	if !strings.Contains(reason, "engine at "+address+" does not answer") {
		t.Fatalf("reason = %q", reason)
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Fatalf("reported the engine gone after %v, while it was still serving", elapsed)
	}
}

func TestWatchKeepsQuietWhileTheEngineLives(t *testing.T) {
	address, _ := fakeEngine(t)
	w := engineWatch{
		address:        address,
		parentPID:      4242,
		getppid:        func() int { return 4242 },
		parentEvery:    10 * time.Millisecond,
		healthEvery:    10 * time.Millisecond,
		healthTimeout:  time.Second,
		healthFailures: 1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if reason := w.run(ctx); reason != "" {
		t.Fatalf("engine reported gone while alive: %q", reason)
	}
}

func watchWithin(t *testing.T, w engineWatch, within time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	reason := w.run(ctx)
	if reason == "" {
		t.Fatalf("the engine's end was not noticed within %v", within)
	}
	return reason
}
