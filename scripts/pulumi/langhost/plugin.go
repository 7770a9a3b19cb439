package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// RunPlugin starts a plugin written in Node and streams its stdout/stderr to the engine,
// then its exit code. The engine reads the plugin's gRPC port from the first stdout line and
// stops the plugin by cancelling this call (the child then gets SIGINT, grace, SIGKILL).
//
//   - kind "analyzer" (a policy pack, `pulumi preview --policy-pack DIR`):
//     `node [nodeargs] <@pulumi/pulumi/cmd/run-policy-pack> <engine> <pack dir>`, run in the
//     pack's directory. That runner registers the SDK's bundled ts-node for `.ts` files
//     whatever the options say, so a pack should be JavaScript (see policies/build.ts).
//   - any other kind (a component provider, PulumiPlugin.yaml):
//     `node [nodeargs] <@pulumi/pulumi/cmd/run-plugin> <plugin dir> [args]`, run in req.Pwd.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	node, err := nodeBin()
	if err != nil {
		return err
	}
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	opts := parseOptions(info.GetOptions())
	module := runPluginModule
	if req.GetKind() == analyzerKind {
		module = runPolicyModule
	}
	modulePath, err := resolveModule(node, dir, module)
	if err != nil {
		return err
	}
	args, cwd := pluginCommand(req, opts, modulePath, h.engine())

	send := &pluginStream{send: stream.Send}
	cmd, done := h.children.command(stream.Context(), node, args...)
	defer done()
	cmd.Dir = cwd
	cmd.Env = opts.env(req.GetEnv())
	cmd.Stdout = send.writer(false)
	cmd.Stderr = send.writer(true)
	runErr := h.children.run(cmd)
	code, ran := exitStatus(cmd)
	if !ran {
		return fmt.Errorf("could not start plugin %s with node: %w", dir, runErr)
	}
	if stream.Context().Err() != nil {
		return nil // the engine stopped the plugin; nobody is listening any more
	}
	return stream.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

// pluginCommand is node's command line for RunPlugin, and its working directory.
func pluginCommand(
	req *pulumirpc.RunPluginRequest, opts runtimeOptions, modulePath, engine string,
) (args []string, cwd string) {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	program := dir
	if entry := info.GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(dir, entry)
	}
	args = append([]string{}, opts.nodeargs...)
	args = append(args, modulePath)
	if req.GetKind() == analyzerKind {
		// run-policy-pack takes exactly <engine address> <program>; the engine may add its
		// own logging/tracing flags in front of the address, which the runner would misread.
		address := lastPositional(req.GetArgs())
		if address == "" {
			address = engine
		}
		return append(args, address, program), dir
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)
	cwd = req.GetPwd()
	if cwd == "" {
		cwd = dir
	}
	return args, cwd
}

// lastPositional is the last argument that is not a flag (nor a flag's value).
func lastPositional(args []string) string {
	last := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			i++ // its value
		case strings.HasPrefix(a, "-"):
		default:
			last = a
		}
	}
	return last
}

// pluginStream turns a child's stdout/stderr into RunPluginResponse messages; Send is not
// safe for concurrent use, so writes are serialized.
type pluginStream struct {
	mu   sync.Mutex
	send func(*pulumirpc.RunPluginResponse) error
}

type pluginWriter struct {
	s      *pluginStream
	stderr bool
}

func (s *pluginStream) writer(stderr bool) pluginWriter { return pluginWriter{s: s, stderr: stderr} }

func (w pluginWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	b := bytes.Clone(p)
	msg := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		msg = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	if err := w.s.send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}
