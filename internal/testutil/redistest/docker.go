package redistest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
)

// The image holds Debian's redis-server and exactly the shared libraries ldd
// lists, on a scratch base: nothing has to be pulled (the engine has no
// registry) and it starts as fast as the bare binary. The tag is a hash of the
// binary and this Dockerfile, so it is built once per machine and rebuilt
// when either changes.
const (
	imageRepo  = "verdict-test-redis"
	dockerfile = `FROM scratch
COPY rootfs/ /
EXPOSE 6379
ENTRYPOINT ["/usr/bin/redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--bind", "0.0.0.0"]
`
	// sessionLabel marks this test binary's containers for the reaper.
	sessionLabel = "verdict.redistest.session"
	reaperEnv    = "VERDICT_REDISTEST_REAPER"
)

var redisPort = network.MustParsePort("6379/tcp")

// docker is the per-binary Docker setup, done once: later Starts only create
// a container.
var docker struct {
	once     sync.Once
	err      error
	provider *testcontainers.DockerProvider
	image    string
	hosts    []string   // where published ports may be reachable, best first
	bindIP   netip.Addr // host IP to publish on
	session  string
	reaperIn io.WriteCloser // kept referenced: closing it starts the reaping
}

func dockerSetup() error {
	docker.once.Do(func() { docker.err = doDockerSetup() })
	return docker.err
}

func doDockerSetup() error {
	// Ryuk (testcontainers' reaper) is an image from a registry; the reaper
	// below does its job. Must be set before testcontainers reads its config.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	bin, err := redisServerPath()
	if err != nil {
		return err
	}
	// testcontainers' own chatter would go to stderr; we log what matters.
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := p.Health(pingCtx); err != nil {
		return fmt.Errorf("docker ping: %w", err)
	}
	host, err := p.DaemonHost(ctx)
	if err != nil {
		return fmt.Errorf("docker host: %w", err)
	}
	// A daemon on this host publishes on loopback only: an unauthenticated
	// Redis should not be reachable from the network. Inside a container,
	// testcontainers guesses the daemon runs on the container's host (socket
	// mounted in) and answers a gateway IP; but the daemon may run in this
	// very container (as on our test VM), where only loopback works. So publish
	// everywhere and let runContainer try loopback first, then the gateway.
	hosts, bindIP := []string{"127.0.0.1", host}, netip.IPv4Unspecified()
	if host == "localhost" || host == "127.0.0.1" {
		hosts, bindIP = []string{"127.0.0.1"}, netip.MustParseAddr("127.0.0.1")
	}
	image, err := ensureImage(ctx, p.Client(), bin)
	if err != nil {
		return err
	}
	session := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	in, err := startReaper(session)
	if err != nil {
		return fmt.Errorf("start reaper: %w", err)
	}
	docker.provider, docker.image, docker.hosts, docker.bindIP = p, image, hosts, bindIP
	docker.session, docker.reaperIn = session, in
	return nil
}

func startDocker(logf func(string, ...any)) (*Server, error) {
	t0 := time.Now()
	if err := dockerSetup(); err != nil {
		if errors.Is(err, errNoRedis) {
			return nil, err
		}
		return nil, fmt.Errorf("redistest: docker: %w", err)
	}
	setup := time.Since(t0)
	t1 := time.Now()
	var err error
	// A few attempts, but only while the port is the problem: another process
	// may take the free port before Docker binds it.
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		var ctr testcontainers.Container
		var host string
		if ctr, host, err = runContainer(port); err == nil {
			s := newServerAt(host, port, modeDocker)
			s.ctr = ctr
			logf("redis: started in docker container %.12s from image %s on %s in %v (+%v Docker setup)",
				ctr.GetContainerID(), docker.image, s.addr,
				time.Since(t1).Round(time.Millisecond), setup.Round(time.Millisecond))
			return s, nil
		}
		releasePort(port)
		if msg := err.Error(); !strings.Contains(msg, "already allocated") && !strings.Contains(msg, "already in use") {
			break
		}
	}
	return nil, fmt.Errorf("redistest: start redis container: %w", err)
}

// runContainer starts a container publishing 6379 on a host port we chose:
// with an explicit binding a stop/start of the container keeps the port,
// whereas a Docker-chosen port may change.
// It returns the host at which the port answered.
func runContainer(hostPort int) (testcontainers.Container, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctr, err := docker.provider.RunContainer(ctx, testcontainers.ContainerRequest{
		Image:        docker.image,
		ExposedPorts: []string{redisPort.String()},
		Labels:       map[string]string{sessionLabel: docker.session},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{redisPort: {{HostIP: docker.bindIP, HostPort: strconv.Itoa(hostPort)}}}
		},
		// Log, not port, readiness: the port check execs a shell, and the
		// image has none.
		WaitingFor: wait.ForLog("Ready to accept connections").WithStartupTimeout(20 * time.Second),
	})
	var addr string
	if err == nil {
		// Also: the proxy to the published port may lag the log line.
		addrs := make([]string, len(docker.hosts))
		for i, h := range docker.hosts {
			addrs[i] = net.JoinHostPort(h, strconv.Itoa(hostPort))
		}
		addr, err = waitPing(10*time.Second, nil, addrs...)
	}
	if err != nil {
		_ = testcontainers.TerminateContainer(ctr) // nil-safe
		return nil, "", err
	}
	host, _, _ := net.SplitHostPort(addr)
	return ctr, host, nil
}

// Image returns the tag of the Redis test image (the host's redis-server and
// the libraries ldd lists, on scratch), building it unless it exists: for
// tests that run Redis containers of their own (test/edge, on a network).
func Image(ctx context.Context, cli client.APIClient) (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found (run scripts/ensure-redis.sh): the Redis image is built from it")
	}
	return ensureImage(ctx, cli, bin)
}

// BuildImage builds tag from a tar build context. A failed build says so in
// its JSON stream, not in the HTTP status: the stream is read to the end, and
// the image must exist afterwards. labels mark the image (for pruning).
func BuildImage(ctx context.Context, cli client.APIClient, buildCtx io.Reader, tag string, labels map[string]string) error {
	res, err := cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Labels: labels,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("build %s: %w", tag, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build %s: %s", tag, msg.Error)
		}
	}
	if _, err := cli.ImageInspect(ctx, tag); err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	return nil
}

// ensureImage returns the image tag, building the image unless it exists.
// Parallel test binaries may both build it; the result is the same.
func ensureImage(ctx context.Context, cli client.APIClient, bin string) (string, error) {
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(binary, dockerfile...))
	tag := imageRepo + ":" + hex.EncodeToString(sum[:])[:16]
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	buildCtx, err := buildContext(bin, binary)
	if err != nil {
		return "", fmt.Errorf("image context: %w", err)
	}
	if err := BuildImage(ctx, cli, buildCtx, tag, map[string]string{"verdict.redistest": "1"}); err != nil {
		return "", err
	}
	return tag, nil
}

// buildContext returns a tar with the Dockerfile and rootfs/: the binary at
// /usr/bin/redis-server and each file ldd lists (the loader included) at the
// path ldd gives, symlinks resolved to their contents.
func buildContext(bin string, binary []byte) (io.Reader, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	files := map[string][]byte{"/usr/bin/redis-server": binary}
	for line := range strings.Lines(string(out)) {
		// "libc.so.6 => /lib/.../libc.so.6 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)"
		// or "linux-vdso.so.1 (0x...)", which is in the kernel, not a file.
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", bin, strings.TrimSpace(line))
		}
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "=>" {
			f = f[2:]
		}
		if len(f) == 0 || !strings.HasPrefix(f[0], "/") {
			continue
		}
		if files[f[0]], err = os.ReadFile(f[0]); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) error {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}, []byte(dockerfile)); err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for name, body := range files {
		for d := path.Dir(name); d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			if err := add(&tar.Header{Typeflag: tar.TypeDir, Name: "rootfs" + d + "/", Mode: 0o755}, nil); err != nil {
				return nil, err
			}
		}
		if err := add(&tar.Header{Name: "rootfs" + name, Mode: 0o755, Size: int64(len(body))}, body); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// The reaper is this test binary started again (see init) with stdin a pipe
// from us. When this process exits, however it dies, the pipe reaches EOF and
// the reaper force-removes every container labelled with our session. Normal
// teardown happens in tb.Cleanup; the reaper covers crashes, timeouts and the
// Shared server, which has no cleanup.
func startReaper(session string) (io.WriteCloser, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// -test.run=^$: should init somehow not catch it, the child runs no tests.
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), reaperEnv+"="+session)
	cmd.SysProcAttr = ownProcessGroup()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait() }() // reap the zombie if it ever exits early
	return in, nil
}

func init() {
	if session := os.Getenv(reaperEnv); session != "" {
		reap(session)
		os.Exit(0)
	}
}

func reap(session string) {
	_, _ = io.Copy(io.Discard, os.Stdin) // returns when the test binary is gone
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", sessionLabel+"="+session),
	})
	if err != nil {
		return
	}
	for _, c := range list.Items {
		_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
}
