//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package boltkv

import (
	"errors"
	"os"
)

// mapFile is not available here: the check of Open reads the file.
func mapFile(*os.File, int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mmap")
}
