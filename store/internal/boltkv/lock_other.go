//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package boltkv

import (
	"os"
	"time"
)

func lockFile(*os.File, bool, time.Duration) error { return nil }
