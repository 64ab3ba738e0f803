package testutil

import (
	"testing"

	"github.com/authflow/authflow/seal"
)

// NewKey returns a new random key for sealing, failing t if there is
// none to be had.
func NewKey(t testing.TB) seal.Key {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Keyring returns the keyring of primary and the older keys, failing t
// for a bad one.
func Keyring(t testing.TB, primary seal.Key, old ...seal.Key) *seal.Keyring {
	t.Helper()
	r, err := seal.NewKeyring(primary, old...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
