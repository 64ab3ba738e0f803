package boltkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
)

// bbolt's on-disk layout, as in go.etcd.io/bbolt v1.4.3 and v1.5.0
// internal/common/{page,meta,bucket}.go. bbolt writes its structs with
// unsafe casts, so the file is in the machine's native byte order.
const (
	pageHeaderSize   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elemSize         = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	bucketHeaderSize = 16 // root pgid uint64, sequence uint64
	metaChecksumAt   = 56 // offset of the checksum in the meta struct
	metaSize         = 64 // the meta struct, checksum included

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10

	leafBucketFlag = 0x01 // a leaf element whose value is a bucket header

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0) // meta.freelist when the freelist is not synced

	minPageSize = 1024    // bbolt looks for the second meta from 1 KiB
	maxPageSize = 1 << 24 // and up to 16 MiB
	maxDepth    = 64      // far deeper than any real tree, even with nested buckets
)

var ne = binary.NativeEndian

// meta is one decoded meta page.
type meta struct {
	page     int // 0 or 1
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64 // high-water mark: pages [0, hwm) are in use or free
	txid     uint64
	err      error // why this meta is invalid, nil when valid
	header   error // what is wrong with the page header (bbolt ignores it but for tx.Check)
}

// parseMeta decodes the meta page at the start of b, validating it as
// bbolt's Meta.Validate does: magic, version, checksum.
func parseMeta(b []byte, page int) meta {
	m := meta{page: page}
	if len(b) < pageHeaderSize+metaSize {
		m.err = errors.New("cut short")
		return m
	}
	if id, flags := ne.Uint64(b), ne.Uint16(b[8:]); id != uint64(page) || flags != flagMeta {
		m.header = fmt.Errorf("its page header says page %d with flags %#x, not page %d with flags %#x", id, flags, page, flagMeta)
	}
	d := b[pageHeaderSize : pageHeaderSize+metaSize]
	switch {
	case ne.Uint32(d[0:]) != boltMagic:
		m.err = errors.New("no bbolt magic number")
		return m
	case ne.Uint32(d[4:]) != boltVersion:
		m.err = fmt.Errorf("format version %d, not %d", ne.Uint32(d[4:]), boltVersion)
		return m
	}
	h := fnv.New64a()
	h.Write(d[:metaChecksumAt])
	if h.Sum64() != ne.Uint64(d[metaChecksumAt:]) {
		m.err = errors.New("checksum mismatch")
		return m
	}
	m.pageSize = ne.Uint32(d[8:])
	m.root = ne.Uint64(d[16:])
	m.freelist = ne.Uint64(d[32:])
	m.hwm = ne.Uint64(d[40:])
	m.txid = ne.Uint64(d[48:])
	return m
}

// fileMetas reads both meta pages of a bbolt file of the given size and
// returns them with the one bbolt will use (the valid one with the highest
// transaction id), or an error saying why there is none.
func fileMetas(r io.ReaderAt, size int64) (m0, m1 meta, chosen *meta, err error) {
	var buf [4096]byte
	n, _ := r.ReadAt(buf[:], 0)
	m0 = parseMeta(buf[:n], 0)
	if m0.err == nil {
		if m0.pageSize < minPageSize || m0.pageSize > maxPageSize {
			return m0, m1, nil, fmt.Errorf("meta page 0 gives an impossible page size of %d bytes", m0.pageSize)
		}
		n, _ = r.ReadAt(buf[:], int64(m0.pageSize))
		m1 = parseMeta(buf[:n], 1)
	} else {
		// Like bbolt, look for the second meta at each possible page size.
		m1 = meta{page: 1, err: m0.err}
		for ps := int64(minPageSize); ps <= maxPageSize && ps < size-minPageSize; ps <<= 1 {
			n, _ = r.ReadAt(buf[:], ps)
			if m := parseMeta(buf[:n], 1); m.err == nil && int64(m.pageSize) == ps {
				m1 = m
				break
			}
		}
	}
	switch {
	case m0.err != nil && m1.err != nil:
		if size < minPageSize {
			return m0, m1, nil, fmt.Errorf("file is %d bytes, too short to be a bbolt database", size)
		}
		return m0, m1, nil, fmt.Errorf("neither meta page is valid (page 0: %v; page 1: %v)", m0.err, m1.err)
	case m0.err == nil && m1.err == nil && m0.pageSize != m1.pageSize:
		return m0, m1, nil, fmt.Errorf("the meta pages disagree on the page size (%d and %d bytes)", m0.pageSize, m1.pageSize)
	case m1.err != nil || (m0.err == nil && m0.txid >= m1.txid):
		return m0, m1, &m0, nil
	default:
		return m0, m1, &m1, nil
	}
}

// checkShape checks what bbolt's Open takes on trust before it maps the
// file: that the meta page it will use describes a file of this size. It
// returns the meta that bbolt will use.
func checkShape(r io.ReaderAt, size int64) (meta, error) {
	_, _, m, err := fileMetas(r, size)
	if err != nil {
		return meta{}, err
	}
	ps := int64(m.pageSize)
	switch {
	case size%ps != 0:
		return *m, fmt.Errorf("file is %d bytes, not a whole number of %d-byte pages", size, ps)
	case size < 4*ps:
		return *m, fmt.Errorf("file is %d bytes, shorter than an empty database (4 pages of %d bytes)", size, ps)
	case m.hwm < 4 || m.hwm > uint64(size/ps):
		return *m, fmt.Errorf("file is %d bytes but its meta page says %d", size, satMul(m.hwm, uint64(ps)))
	case m.root < 2 || m.root >= m.hwm:
		return *m, fmt.Errorf("the root page id %d is outside the database's %d pages", m.root, m.hwm)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm):
		return *m, fmt.Errorf("the freelist page id %d is outside the database's %d pages", m.freelist, m.hwm)
	}
	return *m, nil
}

// ref names the page that referenced another: 0 stands for the meta page.
func ref(from uint64) string {
	if from == 0 {
		return "the meta page"
	}
	return fmt.Sprintf("page %d", from)
}

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return ^uint64(0)
	}
	return lo
}

// walker verifies the page structure of one meta's tree, reading the file
// through r rather than bbolt's map, so that what it finds damaged it
// reports instead of faulting on: every page reachable from the root is
// inside the file, of the right type, referenced once (no cycles), and has
// its elements inside itself; every bucket header and inline bucket is
// well formed; the freelist lists pages inside the file, none twice and
// none in use. It does not check key order or the content of values.
type walker struct {
	r        io.ReaderAt
	ps       uint64
	hwm      uint64
	used     []uint64 // bitset of pages reachable from the root
	bufs     [][]byte // one read buffer per depth
	problems []string
	limit    int // stop after this many problems
}

func newWalker(r io.ReaderAt, m meta, limit int) *walker {
	return &walker{r: r, ps: uint64(m.pageSize), hwm: m.hwm, used: make([]uint64, (m.hwm+63)/64), limit: limit}
}

func (w *walker) full() bool { return len(w.problems) >= w.limit }

func (w *walker) problem(format string, args ...any) {
	if !w.full() {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

func (w *walker) isUsed(id uint64) bool { return w.used[id/64]&(1<<(id%64)) != 0 }
func (w *walker) markUsed(id uint64)    { w.used[id/64] |= 1 << (id % 64) }

// verify walks the tree of m and then its freelist.
func (w *walker) verify(m meta) {
	w.markUsed(0)
	w.markUsed(1)
	w.tree(m.root, 0, 0, true)
	if m.freelist != noFreelist && !w.full() {
		w.freelist(m.freelist)
	}
}

// mapped reads a mapped file; the walker takes its pages in place.
type mapped []byte

func (m mapped) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// read returns the bytes of the page span starting at id, in the buffer
// of the given depth (or in place, from a map).
func (w *walker) read(id uint64, n uint64, depth int) ([]byte, error) {
	if m, ok := w.r.(mapped); ok {
		off := id * w.ps
		if off > uint64(len(m)) || n > uint64(len(m))-off {
			return nil, io.ErrUnexpectedEOF
		}
		return m[off : off+n : off+n], nil
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	if uint64(cap(w.bufs[depth])) < n {
		w.bufs[depth] = make([]byte, n)
	}
	b := w.bufs[depth][:n]
	if _, err := w.r.ReadAt(b, int64(id*w.ps)); err != nil {
		return nil, err
	}
	return b, nil
}

// span reads the header of page id, checks it is in the file and claims
// its pages, and returns the whole span.
func (w *walker) span(id, from uint64, depth int, what string) ([]byte, bool) {
	if id < 2 || id >= w.hwm {
		w.problem("page %d, %s referenced by %s, is outside the database's %d pages", id, what, ref(from), w.hwm)
		return nil, false
	}
	h, err := w.read(id, w.ps, depth) // the first page, header included
	if err != nil {
		w.problem("page %d: %v", id, err)
		return nil, false
	}
	if got := ne.Uint64(h); got != id {
		w.problem("page %d, %s referenced by %s, says it is page %d", id, what, ref(from), got)
		return nil, false
	}
	overflow := uint64(ne.Uint32(h[12:]))
	if overflow >= w.hwm-id {
		w.problem("page %d: its %d overflow pages run past the database's %d pages", id, overflow, w.hwm)
		return nil, false
	}
	for p := id; p <= id+overflow; p++ {
		if w.isUsed(p) {
			if p == id {
				w.problem("page %d, %s referenced by %s, is referenced more than once", id, what, ref(from))
			} else {
				w.problem("page %d: its overflow page %d is also used elsewhere", id, p)
			}
			return nil, false
		}
	}
	for p := id; p <= id+overflow; p++ {
		w.markUsed(p)
	}
	if overflow == 0 {
		return h, true
	}
	b, err := w.read(id, (overflow+1)*w.ps, depth)
	if err != nil {
		w.problem("page %d: %v", id, err)
		return nil, false
	}
	return b, true
}

// tree verifies the b+tree page id and its subtrees. inRoot says it is
// the root bucket's tree, whose entries are all buckets.
func (w *walker) tree(id, from uint64, depth int, inRoot bool) {
	if w.full() {
		return
	}
	if depth > maxDepth {
		w.problem("page %d: the tree is more than %d levels deep", id, maxDepth)
		return
	}
	what := "a bucket's page"
	if inRoot {
		what = "a page of the bucket list"
	}
	p, ok := w.span(id, from, depth, what)
	if !ok {
		return
	}
	flags := ne.Uint16(p[8:])
	count := uint64(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elemSize > uint64(len(p)) {
		w.problem("page %d: its %d elements do not fit in it", id, count)
		return
	}
	switch flags {
	case flagBranch:
		if count == 0 {
			w.problem("page %d: a branch page with no elements", id)
			return
		}
		for i := uint64(0); i < count && !w.full(); i++ {
			e := pageHeaderSize + i*elemSize
			pos, ksize := uint64(ne.Uint32(p[e:])), uint64(ne.Uint32(p[e+4:]))
			if ksize == 0 || e+pos+ksize > uint64(len(p)) {
				w.problem("page %d: branch element %d has its key outside the page", id, i)
				return
			}
		}
		for i := uint64(0); i < count && !w.full(); i++ {
			e := pageHeaderSize + i*elemSize
			w.tree(ne.Uint64(p[e+8:]), id, depth+1, inRoot)
		}
	case flagLeaf:
		w.leaf(p, id, depth, inRoot, false)
	default:
		w.problem("page %d, %s referenced by %s, has page flags %#x, not a branch or leaf page", id, what, ref(from), flags)
	}
}

// leaf verifies the elements of a leaf page p (a page of the file, id, or
// an inline bucket's page when inline is set) and the buckets they hold.
func (w *walker) leaf(p []byte, id uint64, depth int, inRoot, inline bool) {
	where := func() string {
		if inline {
			return fmt.Sprintf("an inline bucket in page %d", id)
		}
		return fmt.Sprintf("page %d", id)
	}
	count := uint64(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elemSize > uint64(len(p)) {
		w.problem("%s: its %d elements do not fit in it", where(), count)
		return
	}
	for i := uint64(0); i < count && !w.full(); i++ {
		e := pageHeaderSize + i*elemSize
		flags := ne.Uint32(p[e:])
		pos, ksize, vsize := uint64(ne.Uint32(p[e+4:])), uint64(ne.Uint32(p[e+8:])), uint64(ne.Uint32(p[e+12:]))
		if ksize == 0 || e+pos+ksize+vsize > uint64(len(p)) {
			w.problem("%s: leaf element %d has its key or value outside the page", where(), i)
			return
		}
		isBucket := flags&leafBucketFlag != 0
		switch {
		case inRoot && !isBucket:
			w.problem("%s: the bucket list holds a key that is not a bucket (%q)", where(), p[e+pos:e+pos+ksize])
			continue
		case !isBucket:
			continue
		case inline:
			w.problem("%s: an inline bucket holds a bucket", where())
			continue
		}
		v := p[e+pos+ksize : e+pos+ksize+vsize]
		name := p[e+pos : e+pos+ksize]
		if len(v) < bucketHeaderSize {
			w.problem("%s: bucket %q has a header of %d bytes", where(), name, len(v))
			continue
		}
		if root := ne.Uint64(v); root != 0 {
			w.tree(root, id, depth+1, false)
			continue
		}
		ip := v[bucketHeaderSize:]
		if len(ip) < pageHeaderSize {
			w.problem("%s: inline bucket %q is cut short", where(), name)
			continue
		}
		if f := ne.Uint16(ip[8:]); f != flagLeaf {
			w.problem("%s: inline bucket %q has page flags %#x, not a leaf page", where(), name, f)
			continue
		}
		w.leaf(ip, id, depth+1, false, true)
	}
}

// freelist verifies the freelist page id: call it after the tree, so
// that free pages in use are found.
func (w *walker) freelist(id uint64) {
	p, ok := w.span(id, 0, 0, "the freelist")
	if !ok {
		return
	}
	if f := ne.Uint16(p[8:]); f != flagFreelist {
		w.problem("page %d, the freelist, has page flags %#x", id, f)
		return
	}
	idx, count := uint64(0), uint64(ne.Uint16(p[10:]))
	if count == 0xFFFF {
		idx, count = 1, ne.Uint64(p[pageHeaderSize:])
	}
	room := (uint64(len(p)) - pageHeaderSize) / 8
	if count > room || idx+count > room {
		w.problem("page %d, the freelist, claims %d free pages, more than it can hold", id, count)
		return
	}
	seen := make([]uint64, len(w.used))
	for i := uint64(0); i < count && !w.full(); i++ {
		f := ne.Uint64(p[pageHeaderSize+(idx+i)*8:])
		switch {
		case f < 2 || f >= w.hwm:
			w.problem("the freelist lists page %d, outside the database's %d pages", f, w.hwm)
		case seen[f/64]&(1<<(f%64)) != 0:
			w.problem("the freelist lists page %d twice", f)
		case w.isUsed(f):
			w.problem("the freelist lists page %d, which is in use", f)
		default:
			seen[f/64] |= 1 << (f % 64)
		}
	}
}

// layoutVersions are the bbolt releases whose file layout (meta, page,
// element and bucket headers, the freelist) the checks of this file were
// written for and whose damage tests they pass: the main module and the
// etcd module link v1.5.0 (the main module linked v1.4.3 before; CI
// runs this package's tests under the etcd module's dependencies too).
// A test fails for any other, so that a dependency upgrade is checked
// against the walk before it ships.
var layoutVersions = []string{"v1.4.3", "v1.5.0"}
