package main

import (
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestPolicyPackCommand(t *testing.T) {
	options, _ := structpb.NewStruct(map[string]any{"typescript": false, "nodeargs": "--no-warnings --import tsx"})
	req := &pulumirpc.RunPluginRequest{
		Pwd:  "/work/project",
		Kind: "analyzer",
		// The engine puts its logging and tracing flags in front of its address.
		Args: []string{"--logtostderr", "-v=9", "--tracing", "http://trace", "127.0.0.1:4711"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory: "/work/project/policies", ProgramDirectory: "/work/project/policies",
			EntryPoint: ".", Options: options,
		},
	}
	args, cwd := pluginCommand(req, parseOptions(options), "/nm/run-policy-pack/index.js", "127.0.0.1:1")
	want := []string{
		"--no-warnings", "--import", "tsx", "/nm/run-policy-pack/index.js",
		"127.0.0.1:4711", "/work/project/policies",
	}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("args = %q\nwant   %q", args, want)
	}
	if cwd != "/work/project/policies" {
		t.Fatalf("cwd = %q, want the pack's directory", cwd)
	}
}

func TestPolicyPackCommandFallsBackToTheHandshakeAddress(t *testing.T) {
	req := &pulumirpc.RunPluginRequest{
		Kind: "analyzer",
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/p", EntryPoint: "."},
	}
	args, _ := pluginCommand(req, parseOptions(nil), "/rpp.js", "127.0.0.1:99")
	if want := []string{"/rpp.js", "127.0.0.1:99", "/p"}; !reflect.DeepEqual(args, want) {
		t.Fatalf("args = %q, want %q", args, want)
	}
}

func TestResourcePluginCommand(t *testing.T) {
	req := &pulumirpc.RunPluginRequest{
		Pwd:  "/work/project",
		Kind: "resource",
		Args: []string{"127.0.0.1:4711"},
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/plugins/comp", EntryPoint: "lib/index.js"},
	}
	args, cwd := pluginCommand(req, parseOptions(nil), "/rp.js", "")
	if want := []string{"/rp.js", "/plugins/comp/lib/index.js", "127.0.0.1:4711"}; !reflect.DeepEqual(args, want) {
		t.Fatalf("args = %q, want %q", args, want)
	}
	if cwd != "/work/project" {
		t.Fatalf("cwd = %q, want the engine's working directory", cwd)
	}
}

func TestOptionsEnvironment(t *testing.T) {
	ts, _ := structpb.NewStruct(map[string]any{"tsconfig": "tsconfig.build.json"})
	env := parseOptions(ts).env([]string{"A=1"})
	want := []string{"A=1", "PULUMI_NODEJS_TYPESCRIPT=true", "PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.build.json"}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("env = %q, want %q", env, want)
	}
	off, _ := structpb.NewStruct(map[string]any{"typescript": false})
	if env := parseOptions(off).env(nil); len(env) != 0 {
		t.Fatalf("typescript: false still sets %q", env)
	}
}
