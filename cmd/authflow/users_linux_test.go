package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/authflow/authflow/store"
)

// openPTY opens a pseudo-terminal: its controlling side and the terminal
// a command runs on.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if err := ioctl(ptmx, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatal(err)
	}
	var n uint32
	if err := ioctl(ptmx, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// echoOn reports whether the terminal echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(tty, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// screen collects what the terminal shows (the controlling side's
// output) and waits for a text to appear on it.
type screen struct {
	ch  chan []byte
	buf bytes.Buffer
}

func newScreen(ptmx *os.File) *screen {
	s := &screen{ch: make(chan []byte, 64)}
	go func() {
		for {
			b := make([]byte, 1024)
			n, err := ptmx.Read(b)
			if n > 0 {
				s.ch <- b[:n]
			}
			if err != nil {
				close(s.ch)
				return
			}
		}
	}()
	return s
}

// waitFor returns once the screen has shown text count times.
func (s *screen) waitFor(t *testing.T, text string, count int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for strings.Count(s.buf.String(), text) < count {
		select {
		case b, ok := <-s.ch:
			if !ok {
				t.Fatalf("the terminal closed before %q; it showed %q", text, s.buf.String())
			}
			s.buf.Write(b)
		case <-deadline:
			t.Fatalf("no %q on the terminal; it showed %q", text, s.buf.String())
		}
	}
}

// runOnTTY starts the binary with the terminal as its standard input,
// standard error and controlling terminal.
func runOnTTY(t *testing.T, bin string, tty *os.File, stdout *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stderr, cmd.Stdout = tty, tty, stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// On a real terminal users add prompts twice and reads the password
// without echo (what is typed before the prompt shows is not echoed
// either), then restores the terminal; Ctrl-C at the prompt, or a
// SIGINT, ends the command, writing nothing and restoring the echo.
func TestUsersAddOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "u.db")
	ptmx, tty := openPTY(t)
	scr := newScreen(ptmx)
	var stdout bytes.Buffer
	cmd := runOnTTY(t, bin, tty, &stdout, "users", "add", "-db", db, "-username", "alice")
	scr.waitFor(t, "Password: ", 1)
	ptmx.Write([]byte("correct horse\n"))
	scr.waitFor(t, "Password (again): ", 1)
	ptmx.Write([]byte("correct horse\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("users add: %v; the terminal showed %q", err, scr.buf.String())
	}
	if stdout.String() != "created user alice (pk 1)\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	if strings.Contains(scr.buf.String(), "horse") {
		t.Errorf("the password was echoed: %q", scr.buf.String())
	}
	if !echoOn(t, tty) {
		t.Error("the terminal was left without echo")
	}
	s, err := store.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CheckPassword(context.Background(), 1, "correct horse"); !ok || err != nil {
		t.Errorf("the password typed does not verify: %v %v", ok, err)
	}
	s.Close()

	// Ctrl-C at the prompt, and a SIGINT from elsewhere.
	for i, interrupt := range []func(*exec.Cmd){
		func(*exec.Cmd) { ptmx.Write([]byte{3}) },
		func(cmd *exec.Cmd) { cmd.Process.Signal(os.Interrupt) },
	} {
		stdout.Reset()
		cmd = runOnTTY(t, bin, tty, &stdout, "users", "add", "-db", db, "-username", "bob")
		scr.waitFor(t, "Password: ", 2+i)
		interrupt(cmd)
		err = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("interrupt %d: %v, exit %d, want 1", i, err, code)
		}
		scr.waitFor(t, "interrupted; nothing was written", 1+i)
		if !echoOn(t, tty) {
			t.Errorf("interrupt %d left the terminal without echo", i)
		}
	}
	s, err = store.Open(db, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx *store.Tx) error {
		_, err := store.Users.Get(tx, store.By("username", "bob"))
		if err == nil {
			t.Error("bob was written")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
