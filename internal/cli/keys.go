package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/store"
)

// keyEnv is the environment variable that holds the store's key when no
// -key-file is given: the base64 of 32 bytes, as authflow keygen prints.
const keyEnv = "AUTHFLOW_KEY"

// keyFlags are every store command's key flags: -key-file, the key that
// seals (or $AUTHFLOW_KEY), and -old-key-file, keys that only open.
type keyFlags struct {
	file string
	old  multiFlag
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.file, "key-file", "", "`file` holding the key that seals secrets at rest: the base64 of 32 random bytes, as \"authflow keygen\" writes (default $"+keyEnv+"; without either, secrets are stored in the clear)")
	fs.Var(&k.old, "old-key-file", "`file` holding an older key, which only opens secrets sealed under it (for authflow rekey); repeatable")
}

// keyring reads the keys the flags name: nil, and no error, when neither
// -key-file nor $AUTHFLOW_KEY gives one. No error holds a key.
func (k *keyFlags) keyring() (*seal.Keyring, error) {
	var text []byte
	from := "$" + keyEnv
	switch {
	case k.file != "":
		b, err := os.ReadFile(k.file)
		if err != nil {
			return nil, fmt.Errorf("reading the key: %w", err)
		}
		text, from = b, k.file
	case os.Getenv(keyEnv) != "":
		text = []byte(os.Getenv(keyEnv))
	case len(k.old) > 0:
		return nil, fmt.Errorf("-old-key-file needs the current key too (-key-file or $%s)", keyEnv)
	default:
		return nil, nil
	}
	primary, err := seal.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("the key in %s: %w", from, err)
	}
	var old []seal.Key
	for _, f := range k.old {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading an old key: %w", err)
		}
		key, err := seal.ParseKey(b)
		if err != nil {
			return nil, fmt.Errorf("the key in %s: %w", f, err)
		}
		old = append(old, key)
	}
	return seal.NewKeyring(primary, old...)
}

// logSealing says at serve's start whether secrets are sealed, and when
// they are not, which fields are kept in the clear.
func logSealing(logf func(string, ...any), s *store.Store) {
	if s.Sealed() {
		logf("secrets are sealed at rest (-key-file or $%s)", keyEnv)
		return
	}
	logf("no key (-key-file or $%s): these secrets are stored in the clear: %s; make a key with authflow keygen", keyEnv, strings.Join(s.SecretFields(), ", "))
}

// keygen prints a new key, or writes it to a new file (mode 0600).
func keygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the key to this new `file` (mode 0600) instead of standard output")
	if code, ok := parseFlags(fs, args, "usage: authflow keygen [-o FILE]", stderr); !ok {
		return code
	}
	k, err := seal.NewKey()
	if err != nil {
		fmt.Fprintf(stderr, "authflow keygen: %v\n", err)
		return 1
	}
	if *out == "" {
		fmt.Fprintln(stdout, k.Text())
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "authflow keygen: %v\n", err)
		return 1
	}
	if _, err := fmt.Fprintln(f, k.Text()); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "authflow keygen: %v\n", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "authflow keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "authflow keygen: wrote %s (%s)\n", *out, k)
	return 0
}

// rekey seals every secret of the store under the key of -key-file (or
// $AUTHFLOW_KEY), opening those sealed under the keys of -old-key-file,
// and those in the clear.
func rekey(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`")
	chunk := fs.Int("chunk", store.DefaultRekeyChunk, "records re-sealed per transaction")
	line := usageLine(nb, "usage: authflow rekey [-db PATH] [-key-file FILE] [-old-key-file FILE]... [-chunk N]")
	if code, ok := parseFlags(fs, args, line, stderr); !ok {
		return code
	}
	if *chunk < 1 {
		fmt.Fprintf(stderr, "authflow rekey: -chunk must be at least 1\n\n%s\n", line)
		return 2
	}
	if src.keys.file == "" && os.Getenv(keyEnv) == "" {
		fmt.Fprintf(stderr, "authflow rekey: no key: give the new key with -key-file (or $%s), and the old ones with -old-key-file\n", keyEnv)
		return 2
	}
	s, err := src.open(ctx, nil)
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %s: %v\n", src, err)
		if errors.Is(err, store.ErrWrongKey) {
			fmt.Fprintln(stderr, "authflow: give the key the secrets are sealed under with -old-key-file")
		}
		return 3
	}
	defer s.Close()
	res, err := s.Rekey(ctx, &store.RekeyOptions{Chunk: *chunk})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %s: %v\n", src, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d objects with secrets, %d sealed again under the current key\n", src, res.Records, res.Resealed)
	return 0
}

// sealWarnings are check's warnings about a store opened with a key that
// holds secrets in the clear or under an older key, which rekey seals
// under the current one.
func sealWarnings(ctx context.Context, s *store.Store) ([]string, error) {
	if !s.Sealed() {
		return nil, nil
	}
	r, err := s.SealReport(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	if r.Clear > 0 {
		out = append(out, fmt.Sprintf("%d objects hold their secrets in the clear (written without a key): authflow rekey seals them", r.Clear))
	}
	if r.Older > 0 {
		out = append(out, fmt.Sprintf("%d objects hold secrets sealed under an older key: authflow rekey seals them under the current one", r.Older))
	}
	return out, nil
}
