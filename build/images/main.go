// Command images builds the images of the compose stack (deploy/compose.yaml)
// on the local Docker engine, FROM scratch, pulling nothing (the engine may
// have no registry):
//
//   - verdict:TAG, build/Dockerfile around a static verdict binary (make
//     build's, CGO_ENABLED=0), the host's CA roots and an empty data dir;
//   - verdict-redis:TAG, internal/testutil/redistest's Redis image (Debian's
//     redis-server and every file ldd lists for it, built by redistest.Image:
//     one recipe for tests and deployment) with redis-cli on top for the
//     health check.
//
// Usage (make images runs it): go run ./build/images --binary bin/verdict [--tag dev]
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

func main() {
	binary := flag.String("binary", "bin/verdict", "the static verdict binary (make build)")
	tag := flag.String("tag", "dev", "tag of both images")
	root := flag.String("root", ".", "the repository (for build/Dockerfile)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, *root, *binary, *tag); err != nil {
		fmt.Fprintf(os.Stderr, "images: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, binary, tag string) error {
	tclog.SetDefault(tclog.NewNoopLogger()) // its banner is noise here
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	defer cli.Close()
	start := time.Now()
	if err := verdictImage(ctx, cli, root, binary, "verdict:"+tag); err != nil {
		return err
	}
	fmt.Printf("built verdict:%s in %s\n", tag, time.Since(start).Round(100*time.Millisecond))
	start = time.Now()
	if err := redisImage(ctx, cli, "verdict-redis:"+tag); err != nil {
		return err
	}
	fmt.Printf("built verdict-redis:%s in %s\n", tag, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// verdictImage builds build/Dockerfile with the context its comment lists.
func verdictImage(ctx context.Context, cli client.APIClient, root, binary, tag string) error {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("%w (run make build first)", err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "build", "Dockerfile"))
	if err != nil {
		return err
	}
	cas, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		// TLS to an identity provider or a central PDP then needs roots
		// mounted at that path; the compose stack speaks plain HTTP.
		fmt.Fprintf(os.Stderr, "images: no CA roots on this host (%v): the image gets an empty bundle\n", err)
	}
	buildCtx, err := tarOf(map[string]file{
		"Dockerfile":          {body: dockerfile},
		"verdict":             {body: bin, mode: 0o755},
		"ca-certificates.crt": {body: cas},
		"var-lib-verdict":     {dir: true},
	})
	if err != nil {
		return err
	}
	return redistest.BuildImage(ctx, cli, buildCtx, tag, map[string]string{"verdict.image": "verdict"})
}

// redisImage layers redis-cli over redistest's image. The base holds every
// library redis-server needs; redis-cli (same source tree, same package
// family) needs a subset, which the exec-form RUN proves at build time.
func redisImage(ctx context.Context, cli client.APIClient, tag string) error {
	base, err := redistest.Image(ctx, cli)
	if err != nil {
		return err
	}
	cliPath, err := exec.LookPath("redis-cli")
	if err != nil {
		return fmt.Errorf("redis-cli not found (Debian: apt-get install redis-tools): the Redis image's health check runs it")
	}
	redisCLI, err := os.ReadFile(cliPath)
	if err != nil {
		return err
	}
	dockerfile := fmt.Sprintf(`FROM %s
COPY redis-cli /usr/bin/redis-cli
RUN ["/usr/bin/redis-cli", "--version"]
HEALTHCHECK --interval=2s --timeout=2s --retries=30 CMD ["/usr/bin/redis-cli", "ping"]
`, base)
	buildCtx, err := tarOf(map[string]file{
		"Dockerfile": {body: []byte(dockerfile)},
		"redis-cli":  {body: redisCLI, mode: 0o755},
	})
	if err != nil {
		return err
	}
	return redistest.BuildImage(ctx, cli, buildCtx, tag, map[string]string{"verdict.image": "redis"})
}

// file is one entry of a build context.
type file struct {
	body []byte
	mode int64
	dir  bool
}

// tarOf returns a build context holding files, in name order.
func tarOf(files map[string]file) (*bytes.Buffer, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := files[n]
		h := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(f.body))}
		if f.mode != 0 {
			h.Mode = f.mode
		}
		if f.dir {
			h = &tar.Header{Typeflag: tar.TypeDir, Name: n + "/", Mode: 0o755}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}
