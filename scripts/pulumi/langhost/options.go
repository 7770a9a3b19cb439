package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// Exit code @pulumi/pulumi's cmd/run uses after it already printed an actionable error: the
// engine should bail without adding another one.
const exitCodeBail = 32

// runtimeOptions are the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml.
type runtimeOptions struct {
	typescript     bool
	tsconfig       string
	nodeargs       []string
	packageManager string
}

func parseOptions(opts *structpb.Struct) runtimeOptions {
	ro := runtimeOptions{typescript: true, packageManager: "npm"}
	if opts == nil {
		return ro
	}
	m := opts.AsMap()
	if v, ok := m["typescript"].(bool); ok {
		ro.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		ro.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		ro.nodeargs = strings.Fields(v)
	}
	if v, ok := m["packagemanager"].(string); ok && v != "" && v != "auto" {
		ro.packageManager = v
	}
	return ro
}

// env is the environment for a Node child: base plus the options' switches.
func (ro runtimeOptions) env(base []string) []string {
	env := append([]string{}, base...)
	if ro.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if ro.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ro.tsconfig)
	}
	return env
}

func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if fallback != "" {
		return fallback
	}
	wd, _ := os.Getwd()
	return wd
}

func nodeBin() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	return p, nil
}

// resolveModule finds a module of @pulumi/pulumi the way Node itself would from dir (works
// with hoisted / workspace node_modules). PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides cmd/run.
func resolveModule(node, dir, module string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" && module == runModule {
		return p, nil
	}
	cmd := exec.Command(node, "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return "", errors.New("It looks like the Pulumi SDK has not been installed in " + dir +
			" (cannot resolve " + module + "). Have you run npm install or yarn install?")
	}
	return string(out), nil
}

const (
	runModule       = "@pulumi/pulumi/cmd/run"
	runPluginModule = "@pulumi/pulumi/cmd/run-plugin"
	runPolicyModule = "@pulumi/pulumi/cmd/run-policy-pack"
	analyzerKind    = "analyzer"
)
