package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/term"
)

// console is the standard input of the users commands, from which they
// read passwords: a terminal (read without echo, after a prompt) or
// anything else (a pipe, a file), read as is.
type console interface {
	// IsTerminal reports whether standard input is a terminal.
	IsTerminal() bool
	// ReadPassword reads one line from the terminal without echoing it,
	// without its line ending. It returns ctx's error when ctx ends first,
	// with the terminal as it was.
	ReadPassword(ctx context.Context) ([]byte, error)
	// Reader reads standard input when it is not a terminal.
	io.Reader
}

// stdin is the process's standard input as a console.
type stdin struct{ f *os.File }

func (s stdin) IsTerminal() bool { return term.IsTerminal(int(s.f.Fd())) }

func (s stdin) Read(p []byte) (int, error) { return s.f.Read(p) }

// ReadPassword reads in a goroutine, so that a shutdown signal (which
// Main turns into ctx's end, and which therefore no longer ends the
// process) is not left waiting for the Enter key; the terminal's state is
// put back before returning then.
func (s stdin) ReadPassword(ctx context.Context) ([]byte, error) {
	fd := int(s.f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return nil, ctx.Err()
	}
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
// the terminal (prompting on prompt twice, without echo) when standard
// input is one, or else from standard input. A file or standard input
// gives its first line, without the line ending ("\n" or "\r\n"); the
// rest is not read. The password is checked: not empty, at most
// maxPasswordLen bytes, valid UTF-8. Reading a file that cannot be read
// is an error wrapping errUnreadable.
func readPassword(ctx context.Context, in console, file string, prompt io.Writer) (string, error) {
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
		fmt.Fprint(prompt, "Password: ")
		a, err := in.ReadPassword(ctx)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if err := checkPassword(a); err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "Password (again): ")
		b, err := in.ReadPassword(ctx)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(a, b) {
			return "", errPasswordMismatch
		}
		raw = a
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
