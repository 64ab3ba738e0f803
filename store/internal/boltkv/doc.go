// Package boltkv implements the storage seam, kv.DB, on one bbolt file. It
// is the only package of the module, tests aside, that imports bbolt.
//
// # Transactions
//
// View and Update are bbolt's: any number of readers on snapshots and one
// writer at a time, so Update runs fn exactly once. Buckets are created
// by the first Put in them; reads of a bucket never written see it empty.
// Put copies the value (bbolt would keep the caller's slice until the
// commit). OnCommit functions are run by bbolt after the commit, in order
// of registration, before Update returns; a View drops them. A long View
// delays a writer that needs to grow the file's map (bbolt remaps only
// when no reader is open), so a View must not wait for an Update. Inline
// (kv.Inliner) says which buckets bbolt keeps inline, in their parent's
// page, which every commit that writes them writes anyway. A View's
// transaction is recycled for a later View once its function returns, so
// that a read transaction allocates only bbolt's own: a transaction kept
// past its function fails until a later View takes it, and the store, the
// one user of this package, drops its reference to it when fn returns.
//
// # Damaged files
//
// bbolt trusts the file it maps: a truncated file or a damaged page makes
// it fault (SIGSEGV, SIGBUS) or panic, which kills the process, or serve
// a tree with pages missing. So, before bbolt maps a file, Open checks
// it, reading through the file descriptor, under the same lock bbolt then
// takes on that descriptor (on systems without flock, such as Windows,
// before bbolt takes its lock):
//
//   - its meta pages: at least one valid (magic, version, checksum), the
//     two agreeing on the page size;
//   - its shape, against the meta that bbolt will use (the valid one with
//     the highest transaction id): a whole number of pages, at least the
//     four of an empty database, and no fewer than the meta's high-water
//     mark (a truncated file); root and freelist pages below that mark;
//   - its page structure: every page reachable from the root is inside
//     the file, a branch or leaf page whose header names it, referenced
//     once (so there is no cycle), with its elements, keys and values
//     inside it; bucket headers and inline buckets are well formed; the
//     bucket list holds only buckets; the freelist is a freelist page that
//     lists pages inside the file, none twice and none in use.
//
// The walk reads every page of the tree once, through a read-only map of
// the file (faults on it turned into errors), which costs a quarter to
// two fifths of a read per page. It is linear in the file's size: an Open
// costs 350–400 times bbolt's own at 10,000 flows (a 130 MiB file) and
// 1,550 times at 100,000 (1.3 GiB), in the page cache
// (BenchmarkScaleOpen in package store). The walk knows bbolt's file
// layout; the versions it was written for are listed in layoutVersions,
// and a test fails under any other. It stays because what it finds cannot be caught later: a
// freelist that lists a page in use would have the next write overwrite
// live data, and an element whose size runs outside its page has bbolt
// read other pages (or memory past its map) as the element, and a write
// copy them over its neighbours (in a large file, possibly gigabytes: an
// allocation that kills the process, which no recover can catch).
//
// TestOpenWalk measures it (go test -run 'TestOpenWalk$' -v
// ./store/internal/boltkv/ -args -openwalk.all): 778 damaged copies of a
// 1 MiB file (truncations; bytes flipped in meta pages, page headers and
// anywhere) are each opened read-write, read whole, written (a put and a
// delete in every bucket), reopened and read again, with the walk and
// with only the meta and shape checks above. With the walk, Open refuses 355,
// and the other 423 read, write and read again with neither an error nor a
// change to the keys not written. Without it, Open refuses 244; of the 111
// more that open, 50 to 54 fail later with kv.ErrCorrupt (bbolt's faults
// and panics recovered), 2 fail with a misleading kv.ErrLocked, 10 to 13
// take the write and then read other keys changed or gone, without any
// error (one a flipped freelist byte: the write overwrote a bucket's 639
// keys; the others an element size running past its page, at times past
// the map into other memory, which is why the counts of that arm vary
// between runs), and the rest behave. No copy crashed its process in
// either arm: in a file this small, an oversized element reaches unmapped
// memory and faults long before a write could allocate enough to kill the
// process.
//
// A file failing any check is refused with an error
// wrapping kv.ErrCorrupt that says what is wrong; an empty file is
// refused read-only and initialised otherwise. Keys out of order and
// damaged bytes inside keys and values are not found here: the store's
// record checksums find the latter, and Check the former.
//
// bbolt itself falls back to the older meta page when the newer one is
// invalid, as after a torn write of the meta page in a crash. That is
// accepted: the database then reads as of one transaction earlier, and
// the last committed transaction is silently lost. Check reports an
// invalid meta page.
//
// Beyond Open, every call into bbolt (Open itself, each transaction, Scan,
// Backup, BucketNames, Check) runs with debug.SetPanicOnFault in the
// goroutine running it, and recovers: a fault on the mapped file or a
// panic of bbolt's ends the call with an error wrapping kv.ErrCorrupt
// instead of the process. Inside a transaction that error sticks, so
// that the transaction cannot commit. A panic of the caller's own code
// (fn, an OnCommit function, Backup's writer) is passed on as a panic. If
// bbolt could not undo a write transaction that panicked, Update keeps
// failing and Close releases the file without bbolt, leaving its map of
// the file in place until the process exits; likewise a panic inside
// bbolt's Open leaves its map in place.
//
// Check is a full consistency check for a command such as authflow check:
// the meta pages, the structural walk above on the current tree, and,
// when that finds nothing, bbolt's own check (tx.Check: key order, pages
// neither reachable nor free).
package boltkv
