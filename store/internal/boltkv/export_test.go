package boltkv

import "bytes"

// FileInfo returns what the meta pages of a bbolt file image say: the
// page size, and the high-water mark, root page and index of the meta
// bbolt uses.
func FileInfo(b []byte) (pageSize int, hwm, root uint64, meta int, err error) {
	_, _, m, err := fileMetas(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, 0, 0, 0, err
	}
	return int(m.pageSize), m.hwm, m.root, m.page, nil
}

// SkipWalk makes Open skip its page walk (checking only the meta pages
// and the file's shape), for the test that measures what the walk
// catches.
func SkipWalk(skip bool) { skipWalk = skip }

// LayoutVersions are the bbolt versions the layout checks were written
// for.
var LayoutVersions = layoutVersions

// PageWrites is the number of page writes bbolt's commits have made.
func (db *DB) PageWrites() int64 {
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}
