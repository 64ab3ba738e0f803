package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// console is the standard input of the users commands, from which they
// read passwords: a terminal (read without echo, after a prompt) or
// anything else (a pipe, a file), read as is.
type console interface {
	// IsTerminal reports whether standard input is a terminal.
	IsTerminal() bool
	// ReadPasswords shows each prompt in turn and reads an answer to
	// each from the terminal, without echo. Echo is off before the first
	// prompt shows (so nothing typed ahead is shown either) and on again
	// when it returns, however it returns: with errInterrupted for
	// Ctrl-C or Ctrl-D, or with ctx's error when ctx ends first.
	ReadPasswords(ctx context.Context, prompts ...string) ([]string, error)
	// Reader reads standard input when it is not a terminal.
	io.Reader
}

// errInterrupted: Ctrl-C or Ctrl-D at a password prompt.
var errInterrupted = errors.New("interrupted")

// stdin is the process's standard input as a console; prompts go to
// prompt (standard error).
type stdin struct {
	f      *os.File
	prompt io.Writer
}

func (s stdin) IsTerminal() bool { return term.IsTerminal(int(s.f.Fd())) }

func (s stdin) Read(p []byte) (int, error) { return s.f.Read(p) }

// ReadPasswords puts the terminal in raw mode and reads through
// term.Terminal, which writes the prompts, echoes nothing of a password
// and takes Ctrl-C (no longer a signal in raw mode) as the end of input.
// It reads in a goroutine, so that a shutdown signal (which Main turns
// into ctx's end) is not left waiting for the Enter key.
func (s stdin) ReadPasswords(ctx context.Context, prompts ...string) ([]string, error) {
	fd := int(s.f.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	restore := sync.OnceFunc(func() { _ = term.Restore(fd, state) })
	defer restore()
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{s.f, s.prompt}, "")
	type result struct {
		answers []string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for _, p := range prompts {
			a, err := t.ReadPassword(p)
			if err != nil {
				r.err = err
				break
			}
			r.answers = append(r.answers, a)
		}
		done <- r
	}()
	select {
	case r := <-done:
		if r.err == nil {
			return r.answers, nil
		}
		err = r.err
		if errors.Is(err, io.EOF) {
			err = errInterrupted
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	restore()
	fmt.Fprintln(s.prompt) // the line the prompt began
	return nil, err
}

// maxPasswordLen bounds a password read, in bytes: far above any password
// a person types or a generator makes, and small enough that a wrong
// -password-file (a disk image) is refused at once.
const maxPasswordLen = 4096

// Errors of reading a password. Each is said on standard error; none
// quotes the password.
var (
	// errPasswordMismatch: the two passwords typed on the terminal differ.
	errPasswordMismatch = errors.New("the passwords do not match")
	// errPasswordEmpty: an empty password (a user without one is made
	// with -no-password).
	errPasswordEmpty = errors.New("the password is empty (for a user without a usable password, give -no-password)")
	// errPasswordLong: more than maxPasswordLen bytes.
	errPasswordLong = fmt.Errorf("the password is longer than %d bytes", maxPasswordLen)
	// errPasswordUTF8: not UTF-8, which no login form can send.
	errPasswordUTF8 = errors.New("the password is not valid UTF-8")
	// errNoPassword: standard input ended before any password.
	errNoPassword = errors.New("no password on standard input (give one on a terminal, with -password-file FILE, or choose -no-password)")
)

// readPassword reads a new password: from file when one is named, from
// the terminal (prompting twice, without echo) when standard input is
// one, or else from standard input. A file or standard input
// gives its first line, without the line ending ("\n" or "\r\n"); the
// rest is not read. The password is checked: not empty, at most
// maxPasswordLen bytes, valid UTF-8. Reading a file that cannot be read
// is an error wrapping errUnreadable.
func readPassword(ctx context.Context, in console, file string) (string, error) {
	var raw []byte
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errUnreadable, err)
		}
		defer f.Close()
		raw, err = firstLine(f)
		if err != nil {
			if !errors.Is(err, errPasswordLong) {
				err = fmt.Errorf("%w: %s: %w", errUnreadable, file, err)
			}
			return "", err
		}
	case in.IsTerminal():
		pw, err := in.ReadPasswords(ctx, "Password: ", "Password (again): ")
		if err != nil {
			return "", err
		}
		if len(pw) != 2 || pw[0] != pw[1] {
			return "", errPasswordMismatch
		}
		raw = []byte(pw[0])
	default:
		var err error
		raw, err = firstLine(in)
		if errors.Is(err, io.EOF) {
			return "", errNoPassword
		}
		if err != nil {
			if !errors.Is(err, errPasswordLong) {
				err = fmt.Errorf("%w: standard input: %w", errUnreadable, err)
			}
			return "", err
		}
	}
	if err := checkPassword(raw); err != nil {
		return "", err
	}
	return string(raw), nil
}

// errUnreadable marks a password source that could not be read (exit 3,
// like a file import cannot read).
var errUnreadable = errors.New("cannot read the password")

// firstLine reads r up to its first line ending, or its end; io.EOF when
// r holds nothing at all.
func firstLine(r io.Reader) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLen+2), 512)
	var line []byte
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			if len(line) == 0 {
				return nil, io.EOF
			}
			break
		}
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			break
		}
		line = append(line, b)
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxPasswordLen {
		return nil, errPasswordLong
	}
	return line, nil
}

// checkPassword refuses an empty, overlong or non-UTF-8 password.
func checkPassword(raw []byte) error {
	switch {
	case len(raw) == 0:
		return errPasswordEmpty
	case len(raw) > maxPasswordLen:
		return errPasswordLong
	case !utf8.Valid(raw):
		return errPasswordUTF8
	}
	return nil
}
