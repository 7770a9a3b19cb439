// Command pulumi-language-nodejs is this project's own, minimal Node.js language host for the
// Pulumi engine (the LanguageRuntime gRPC service).
//
// Why it exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which the Go module
// proxy reachable from our machines does not serve (403 "This module version is not
// available"). scripts/pulumi/ensure-pulumi.sh tries the upstream module first and falls back
// to this one, built against the published sdk/v3 protobuf stubs; it copies no upstream code.
//
// What it does:
//   - Run starts `node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor ... <program>` with the
//     engine's real monitor address (no monitor proxy), so every ResourceMonitor feature the
//     engine offers reaches the Node SDK unchanged.
//   - RunPlugin starts Node plugins: policy packs (kind "analyzer", through
//     @pulumi/pulumi/cmd/run-policy-pack, as `pulumi preview --policy-pack DIR` needs) and
//     other plugin programs (through @pulumi/pulumi/cmd/run-plugin), streaming their output
//     back to the engine.
//   - Hygiene: the host watches the engine that started it (parent process and gRPC health)
//     and, when the engine is gone, stops its Node children and exits; a cancelled Run or
//     RunPlugin interrupts its child with SIGINT and kills it only after a grace period;
//     children die with the host (parent-death signal) even if the host is killed with -9.
//
// Pulumi.yaml / PulumiPolicy.yaml runtime options: typescript (default true), tsconfig,
// nodeargs, packagemanager (npm|yarn|pnpm|bun, for `pulumi install`).
//
// Not implemented (the engine gets Unimplemented): code generation (`pulumi convert`,
// `pulumi package gen-sdk`, and `pulumi import` unless run with --generate-code=false),
// Template, Pack, Link, RunPlugin2.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// version is set with -ldflags "-X main.version=..." by ensure-pulumi.sh.
var version = "0.0.0-dev"

// config is what the engine tells the host on its command line.
type config struct {
	engineAddress string
	tracing       string
}

// parseArgs reads the command line the engine starts language hosts with:
// [--logtostderr] [-v=N] [--logflow] [--tracing URL] ENGINE_ADDRESS
func parseArgs(args []string) config {
	var c config
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				c.tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			c.tracing = a[strings.IndexByte(a, '=')+1:]
		case strings.HasPrefix(a, "-"):
			// --logtostderr, -v=N, --logflow and friends: accepted, ignored.
		default:
			c.engineAddress = a
		}
	}
	return c
}

func main() {
	cfg := parseArgs(os.Args[1:])
	settings := serveSettings{
		config: cfg,
		watch: engineWatch{
			address:        cfg.engineAddress,
			parentPID:      os.Getppid(),
			getppid:        os.Getppid,
			parentEvery:    500 * time.Millisecond,
			healthEvery:    2 * time.Second,
			healthTimeout:  5 * time.Second,
			healthFailures: 2,
		},
		grace: childGrace(),
	}
	if err := serve(settings, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// childGrace is how long a cancelled Node child gets between SIGINT and SIGKILL:
// TENANCY_LANGHOST_GRACE (a Go duration such as "5s"), default 5 seconds.
func childGrace() time.Duration {
	if v := os.Getenv("TENANCY_LANGHOST_GRACE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			return d
		}
	}
	return 5 * time.Second
}
