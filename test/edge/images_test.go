package edge

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// dockerOrSkip returns a provider for the local Docker engine, or skips the
// test saying why. Ryuk (testcontainers' reaper) is an image from a
// registry, which this engine cannot pull: it is turned off, and every
// container is terminated by the test's cleanups.
func dockerOrSkip(t *testing.T) *testcontainers.DockerProvider {
	t.Helper()
	if testing.Short() {
		t.Skip("container test skipped in -short mode")
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Health(ctx); err != nil {
		t.Skipf("no Docker engine answers: %v", err)
	}
	return p
}

// ctxFile is one entry of a build context.
type ctxFile struct {
	body []byte
	dir  bool
}

// ensureImage builds repo:<hash of the context> unless it exists, so each
// image is built once per machine and again only when its inputs change.
func ensureImage(ctx context.Context, cli client.APIClient, repo string, files map[string]ctxFile) (string, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n].body))
		h.Write(files[n].body)
	}
	tag := repo + ":" + hex.EncodeToString(h.Sum(nil))[:16]
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, n := range names {
		f := files[n]
		for d := path.Dir(n); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755})
		}
		if f.dir {
			if !dirs[n] {
				dirs[n] = true
				_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: n + "/", Mode: 0o755})
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: int64(len(f.body))}); err != nil {
			return "", err
		}
		_, _ = tw.Write(f.body)
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := redistest.BuildImage(ctx, cli, &buf, tag, map[string]string{"verdict.edgetest": "1"}); err != nil {
		return "", err
	}
	pruneOlder(ctx, cli, repo, tag)
	return tag, nil
}

// pruneOlder removes the images of repo built from earlier inputs, so that
// rebuilding after every change of the binary does not fill the disk. An
// image still in use stays (the removal fails, quietly).
func pruneOlder(ctx context.Context, cli client.APIClient, repo, keep string) {
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("reference", repo)})
	if err != nil {
		return
	}
	for _, im := range list.Items {
		if !slices.Contains(im.RepoTags, keep) {
			_, _ = cli.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{PruneChildren: true})
		}
	}
}

// verdictImage builds build/Dockerfile around a static (CGO_ENABLED=0)
// verdict binary built from this tree the way `make build` builds it, so
// that either warms the Go build cache for the other (a cold CGO_ENABLED=0
// build of everything takes minutes on two cores; a warm one seconds).
func verdictImage(ctx context.Context, t *testing.T, cli client.APIClient) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verdict")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/verdict")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmd/verdict: %v\n%s", err, out)
	}
	t.Logf("built the static verdict binary in %v", time.Since(start).Round(100*time.Millisecond))
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "build", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The host's CA roots when it has them; the test needs none (plain HTTP).
	cas, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	tag, err := ensureImage(ctx, cli, "verdict-edge-test", map[string]ctxFile{
		"Dockerfile":          {body: dockerfile},
		"verdict":             {body: binary},
		"ca-certificates.crt": {body: cas},
		"var-lib-verdict":     {dir: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// redisImage is internal/testutil/redistest's Redis image (the host's
// redis-server and the libraries ldd lists, on scratch), built unless it exists.
func redisImage(ctx context.Context, t *testing.T, cli client.APIClient) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found (run scripts/ensure-redis.sh): the Redis image is built from it")
	}
	tag, err := redistest.Image(ctx, cli)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}
