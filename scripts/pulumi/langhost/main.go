// Command pulumi-language-nodejs is this project's own, minimal Node.js
// language host for the Pulumi engine (LanguageRuntime gRPC service).
//
// Why it exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which
// the Go module proxy reachable from our machines does not serve (403 "This
// module version is not available"). ensure-pulumi.sh tries the upstream
// module first and only falls back to this file when it cannot be fetched.
//
// It is written against the published sdk/v3 protobuf stubs only; it copies
// no upstream code. Like the upstream host it starts
// `node <@pulumi/pulumi/cmd/run> --monitor ... <program>` and hands it the
// engine's real monitor address (no monitor proxy), so every ResourceMonitor
// feature the engine offers (transforms, hooks, packages, shutdown signal)
// reaches the Node SDK unchanged.
//
// Supported Pulumi.yaml runtime options: typescript (default true), tsconfig,
// nodeargs, packagemanager (npm|yarn|pnpm|bun, for `pulumi install`).
// Not implemented (return Unimplemented): code generation (pulumi convert /
// package gen-sdk), RunPlugin (Node component providers), Template, Pack, Link.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is set with -ldflags "-X main.version=..." by ensure-pulumi.sh.
var version = "0.0.0-dev"

// Exit code @pulumi/pulumi's cmd/run uses after it already printed an
// actionable error: the engine should bail without adding another one.
const exitCodeBail = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func main() {
	h := &host{}
	// The engine starts language hosts as: [--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				h.tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			h.tracing = a[strings.IndexByte(a, '=')+1:]
		case strings.HasPrefix(a, "-"):
			// --logtostderr, -v=N, --logflow and friends: accepted, ignored.
		default:
			h.engineAddress = a
		}
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: listen: %v\n", err)
		os.Exit(1)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(srv, h)
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: serve: %v\n", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- helpers

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

// resolveRunPath finds @pulumi/pulumi/cmd/run the way Node itself would from
// the program directory (works with hoisted / workspace node_modules).
func resolveRunPath(node, dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	cmd := exec.Command(node, "-e", "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run'))")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return "", errors.New("It looks like the Pulumi SDK has not been installed. " +
			"Have you run npm install or yarn install?")
	}
	return string(out), nil
}

type pkgJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          *struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   string `json:"value"`
		} `json:"parameterization"`
	} `json:"pulumi"`
}

func readPkg(path string) (*pkgJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p pkgJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// findNodeModules returns node_modules dirs from dir up to the filesystem root.
func findNodeModules(dir string) []string {
	var out []string
	for d := dir; ; d = filepath.Dir(d) {
		nm := filepath.Join(d, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			out = append(out, nm)
		}
		if filepath.Dir(d) == d {
			return out
		}
	}
}

// requiredPackages scans installed packages for a package.json with
// "pulumi": {"resource": true, ...} (how Pulumi provider SDKs announce their
// plugin), the same contract the upstream host honours.
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]*pulumirpc.PackageDependency{}
	for _, nm := range findNodeModules(dir) {
		entries, err := os.ReadDir(nm)
		if err != nil {
			continue
		}
		var pkgDirs []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			if strings.HasPrefix(name, "@") {
				scoped, err := os.ReadDir(filepath.Join(nm, name))
				if err != nil {
					continue
				}
				for _, s := range scoped {
					pkgDirs = append(pkgDirs, filepath.Join(nm, name, s.Name()))
				}
				continue
			}
			pkgDirs = append(pkgDirs, filepath.Join(nm, name))
		}
		for _, pd := range pkgDirs {
			p, err := readPkg(filepath.Join(pd, "package.json"))
			if err != nil || p.Pulumi == nil || !p.Pulumi.Resource {
				continue
			}
			name := p.Pulumi.Name
			if name == "" {
				name = strings.TrimPrefix(p.Name, "@pulumi/")
				name = strings.TrimPrefix(name, "@")
			}
			ver := p.Pulumi.Version
			if ver == "" {
				ver = p.Version
			}
			if ver != "" && !strings.HasPrefix(ver, "v") {
				ver = "v" + ver
			}
			dep := &pulumirpc.PackageDependency{Kind: "resource", Name: name, Version: ver, Server: p.Pulumi.Server}
			if pz := p.Pulumi.Parameterization; pz != nil {
				val, err := base64.StdEncoding.DecodeString(pz.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: bad parameterization value: %w", pd, err)
				}
				dep.Parameterization = &pulumirpc.PackageParameterization{
					Name: pz.Name, Version: pz.Version, Value: val,
				}
			}
			key := dep.Name + "@" + dep.Version
			if dep.Parameterization != nil {
				key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
			}
			if _, dup := seen[key]; !dup {
				seen[key] = dep
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pulumirpc.PackageDependency, 0, len(keys))
	for _, k := range keys {
		out = append(out, seen[k])
	}
	return out, nil
}

// ---------------------------------------------------------------- RPCs

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *host) GetRequiredPlugins( //nolint:staticcheck // deprecated RPC kept for older engines
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo(), req.GetPwd()))
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, p := range pkgs {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

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
	runPath, err := resolveRunPath(node, pwd)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

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
	add("tracing", h.tracing)
	program := req.GetProgram()
	if program == "" {
		program = info.GetEntryPoint()
	}
	if program == "" {
		program = "." // cmd/run then honours package.json "main"/"exports"
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

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

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(cfgJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
	)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeBail {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

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
	cmd := exec.CommandContext(stream.Context(), pm, "install")
	cmd.Dir = dir
	cmd.Stdout = io.Writer(out)
	cmd.Stderr = io.Writer(errw)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s install failed: %w", pm, err)
	}
	fmt.Fprintln(out, "Finished installing dependencies")
	return nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(_ context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeBin()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "tenancy pulumi-language-nodejs " + version},
	}, nil
}

func (h *host) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd())
	p, err := readPkg(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range p.Dependencies {
		names[n] = true
	}
	if req.GetTransitiveDependencies() {
		for n := range p.DevDependencies {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var deps []*pulumirpc.DependencyInfo
	for _, n := range sorted {
		ver := p.Dependencies[n]
		if ver == "" {
			ver = p.DevDependencies[n]
		}
		for _, nm := range findNodeModules(dir) {
			if ip, err := readPkg(filepath.Join(nm, n, "package.json")); err == nil {
				ver = ip.Version
				break
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: ver})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}
