package password_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"testing"

	"github.com/authflow/authflow/password"
)

// The baseline: one PBKDF2-HMAC-SHA256 at Django 5.1's iteration count,
// the primitive alone.
func BenchmarkPBKDF2Primitive(b *testing.B) {
	for b.Loop() {
		if _, err := pbkdf2.Key(sha256.New, "correct horse", []byte(salt22), password.DefaultIterations, 32); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := password.Hash("correct horse"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	stored, _ := password.Hash("correct horse")
	for b.Loop() {
		if ok, _, _ := password.Check("correct horse", stored); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCheckWrong(b *testing.B) {
	stored, _ := password.Hash("correct horse")
	for b.Loop() {
		if ok, _, _ := password.Check("battery staple", stored); ok {
			b.Fatal("match")
		}
	}
}

// Must cost about one hash (Django's CVE-2024-39329 fix).
func BenchmarkCheckUnusable(b *testing.B) {
	stored := password.Unusable()
	for b.Loop() {
		if ok, _, _ := password.Check("correct horse", stored); ok {
			b.Fatal("match")
		}
	}
}
