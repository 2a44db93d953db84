package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// handBundleName is the cached hand-written bundle of the org bundle from:
// its name carries a digest of the policy, so an edited policy is rebuilt.
func handBundleName(from string) (string, error) {
	mods, err := handModules()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range sortedNames(mods) {
		fmt.Fprintf(h, "%s\x00%s\x00", name, mods[name])
	}
	return strings.TrimSuffix(from, ".tar.gz") + "-hand-" + hex.EncodeToString(h.Sum(nil))[:12] + ".tar.gz", nil
}

// writeHandBundle writes out, a bundle for `opa run`: the data.json of
// Verdict's bundle from (the same data, byte for byte, at
// verdict_data/orgs/<org>) and the hand-written policy, nothing else (none
// of Verdict's policies).
func writeHandBundle(from, out string) error {
	mods, err := handModules()
	if err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	gr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(out + ".tmp")
	defer f.Close()
	gw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gw)
	tr := tar.NewReader(gr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		if strings.TrimPrefix(h.Name, "/") != "data.json" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: "/data.json", Mode: 0o644, Size: h.Size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
		found = true
	}
	if !found {
		return fmt.Errorf("%s holds no data.json", from)
	}
	for _, name := range sortedNames(mods) {
		if err := tw.WriteHeader(&tar.Header{Name: "/" + name, Mode: 0o644, Size: int64(len(mods[name])), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, mods[name]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
