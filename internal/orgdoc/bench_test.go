package orgdoc

import "testing"

func BenchmarkDecodeOrgFixture(b *testing.B) {
	data := readFixture(b)
	for b.Loop() {
		if _, err := DecodeOrg(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCorpusAcme(b *testing.B) {
	data := readAcme(b)
	for b.Loop() {
		if _, err := DecodeCorpus(data); err != nil {
			b.Fatal(err)
		}
	}
}
