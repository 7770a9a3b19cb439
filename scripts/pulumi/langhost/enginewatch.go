package main

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// engineWatch notices when the engine that started the host is gone. Two signals, either
// suffices:
//   - the parent process changed: the engine (our parent) died and we were re-parented
//     (the fast path: a killed `pulumi` is noticed within parentEvery);
//   - the engine's gRPC health service stopped answering healthFailures times in a row
//     (also covers a host that was not started by the engine process itself).
type engineWatch struct {
	address        string // engine gRPC address; "" = no health check
	parentPID      int    // pid of the engine at start; <= 1 = no parent check
	getppid        func() int
	parentEvery    time.Duration
	healthEvery    time.Duration
	healthTimeout  time.Duration
	healthFailures int
}

// run blocks until the engine is gone (returns why) or ctx ends (returns "").
func (w engineWatch) run(ctx context.Context) string {
	var parentTick, healthTick <-chan time.Time
	if w.parentPID > 1 && w.getppid != nil && w.parentEvery > 0 {
		t := time.NewTicker(w.parentEvery)
		defer t.Stop()
		parentTick = t.C
	}
	var health healthpb.HealthClient
	if w.address != "" && w.healthEvery > 0 {
		conn, err := grpc.NewClient(w.address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err == nil {
			defer func() { _ = conn.Close() }()
			health = healthpb.NewHealthClient(conn)
			t := time.NewTicker(w.healthEvery)
			defer t.Stop()
			healthTick = t.C
		}
	}
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-parentTick:
			if now := w.getppid(); now != w.parentPID {
				return fmt.Sprintf("parent process %d exited (now %d)", w.parentPID, now)
			}
		case <-healthTick:
			err := w.check(ctx, health)
			if err == nil {
				failures = 0
				continue
			}
			if ctx.Err() != nil {
				return ""
			}
			failures++
			if failures >= max(w.healthFailures, 1) {
				return fmt.Sprintf("engine at %s does not answer: %v", w.address, err)
			}
		}
	}
}

// check asks the engine's health service once; a server without one counts as alive. The
// question has its own deadline: the watch ending must not read as the engine failing.
func (w engineWatch) check(ctx context.Context, health healthpb.HealthClient) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.healthTimeout)
	defer cancel()
	_, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
	if err != nil && status.Code(err) == codes.Unimplemented {
		return nil
	}
	return err
}
