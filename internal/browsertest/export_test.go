package browsertest

// SetExecPath points Shared at another Chromium for a test, and returns
// a func that restores it.
func SetExecPath(path string) (restore func()) {
	saved := execPath
	execPath = path
	return func() { execPath = saved }
}

// SetAxePath points Check at another axe-core script for a test, and
// returns a func that restores it.
func SetAxePath(path string) (restore func()) {
	saved := axePath
	axePath = path
	return func() { axePath = saved }
}
