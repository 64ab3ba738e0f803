//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package boltkv

import (
	"errors"
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f read-only, for the check of
// Open, and returns the map and the function that unmaps it.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, errors.New("the file cannot be mapped")
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
