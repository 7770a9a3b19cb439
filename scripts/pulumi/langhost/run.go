package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Run executes the stack's program: `node [nodeargs] <cmd/run> --monitor ... <program>`.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := nodeBin()
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	info := req.GetInfo()
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = programDir(info, "")
	}
	opts := parseOptions(info.GetOptions())
	runPath, err := resolveModule(node, pwd, runModule)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := programEnv(req)
	if err != nil {
		return nil, err
	}

	cmd, done := h.children.command(ctx, node, runArgs(req, opts, runPath, pwd, h.engine(), h.tracing)...)
	defer done()
	cmd.Dir = pwd
	cmd.Env = opts.env(env)
	cmd.Stdout = h.stdout
	cmd.Stderr = h.stderr
	err = h.children.run(cmd)
	code, ran := exitStatus(cmd)
	switch {
	case !ran:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	case code == 0 && err == nil:
		return &pulumirpc.RunResponse{}, nil
	case code == exitCodeBail:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case ctx.Err() != nil:
		return &pulumirpc.RunResponse{Error: "Program was cancelled"}, nil
	default:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code),
		}, nil
	}
}

// runArgs is node's command line for Run.
func runArgs(
	req *pulumirpc.RunRequest, opts runtimeOptions, runPath, pwd, engine, tracing string,
) []string {
	info := req.GetInfo()
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", pwd)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", tracing)
	program := req.GetProgram()
	if program == "" {
		program = info.GetEntryPoint()
	}
	if program == "" {
		program = "." // cmd/run then honours package.json "main"/"exports"
	}
	args = append(args, program)
	return append(args, req.GetArgs()...)
}

// programEnv is the host's environment plus the stack configuration for cmd/run.
func programEnv(req *pulumirpc.RunRequest) ([]string, error) {
	cfg := req.GetConfig()
	if cfg == nil {
		cfg = map[string]string{}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return append(os.Environ(),
		"PULUMI_CONFIG="+string(cfgJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
	), nil
}
