package router

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Static files are served from the folders the route table names, one per
// version (see jack.StaticMount). A version's files never change, so what
// the router learns of a file (its ETag, type, and, for small files, its
// bytes) is kept for as long as the folder is in the table.
const (
	maxCachedFile    = 256 << 10 // files up to this size are kept in memory
	maxCachedTotal   = 64 << 20  // across every folder
	maxRanges        = 16        // more ranges than this in one request: the whole file is sent
	fingerprintCache = "public, max-age=31536000, immutable"
	plainCache       = "public, max-age=60"
)

// staticFiles holds the cache of every static folder in the table.
type staticFiles struct {
	logger *slog.Logger
	mu     sync.Mutex
	dirs   map[string]*staticDir
	cached atomic.Int64 // bytes of file contents kept in memory
}

func newStaticFiles(logger *slog.Logger) *staticFiles {
	return &staticFiles{logger: logger, dirs: map[string]*staticDir{}}
}

// dir returns the folder at path, with its cache if it was in the table
// before.
func (s *staticFiles) dir(path string) *staticDir {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirs[path]
	if d == nil {
		d = &staticDir{path: path, files: s, entries: map[string]*staticFile{}}
		s.dirs[path] = d
	}
	return d
}

// forget drops the folders t no longer names, with what was cached of them.
func (s *staticFiles) forget(t *table) {
	inUse := map[*staticDir]bool{}
	for _, r := range t.routes() {
		for _, m := range r.static {
			for _, d := range m.dirs {
				inUse[d] = true
			}
		}
	}
	s.mu.Lock()
	var gone []*staticDir
	for p, d := range s.dirs {
		if !inUse[d] {
			delete(s.dirs, p)
			gone = append(gone, d)
		}
	}
	s.mu.Unlock()
	for _, d := range gone {
		d.close()
	}
}

// staticMount is a URL prefix and the folders searched for its files, in
// order.
type staticMount struct {
	prefix string
	dirs   []*staticDir
}

// staticDir is one version's folder of files for one URL prefix.
type staticDir struct {
	path  string
	files *staticFiles

	openOnce sync.Once
	root     *os.Root // nil when the folder can't be opened

	mu      sync.RWMutex
	entries map[string]*staticFile // by clean relative path; missing for none
	cached  int64                  // bytes of contents kept, guarded by mu
	misses  int                    // entries that are missing
	closed  bool
}

// missing is the entry of a name a folder has no file for: a version's
// files never change, so a 404 is known as well as a file is. At most
// maxMissesHeld per folder, so that a client asking for random names
// cannot grow it without end.
var missing = &staticFile{}

const maxMissesHeld = 4096

// staticFile is what is known of one file (or folder).
type staticFile struct {
	name         string // relative to the folder
	dir          bool
	size         int64
	modTime      time.Time
	etag         string
	contentType  string
	cacheControl string
	data         []byte      // the contents, when small enough to keep
	br, gz       *staticFile // precompressed siblings (name.br, name.gz)

	// Header values made once, shared by every response (nobody changes a
	// header's slice, only replaces it).
	hType, hETag, hCache, hModified, hLength []string
}

// openRoot opens the folder once; a folder that is missing serves 404s.
func (d *staticDir) openRoot() *os.Root {
	d.openOnce.Do(func() {
		root, err := os.OpenRoot(d.path)
		if err != nil {
			d.files.logger.Warn("static folder unavailable; its URLs answer 404", "dir", d.path, "err", err)
			return
		}
		d.root = root
	})
	return d.root
}

func (d *staticDir) close() {
	d.mu.Lock()
	d.closed = true
	d.entries = nil
	d.files.cached.Add(-d.cached)
	d.cached = 0
	d.mu.Unlock()
	d.openRoot() // so that a concurrent Do does not open it after
	if d.root != nil {
		d.root.Close()
	}
}

// lookup returns what is known of the file at name (clean, relative; "."
// for the folder itself), or nil when there is none.
func (d *staticDir) lookup(name string) *staticFile {
	if f, ok := d.held(name); ok {
		return f
	}
	root := d.openRoot()
	if root == nil {
		return nil
	}
	f := d.load(root, name)
	if f == nil {
		d.mu.Lock()
		if !d.closed && d.misses < maxMissesHeld {
			d.entries[name] = missing
			d.misses++
		}
		d.mu.Unlock()
		return nil
	}
	if !f.dir {
		f.br = d.load(root, name+".br")
		f.gz = d.load(root, name+".gz")
		if f.br != nil && f.br.dir || f.gz != nil && f.gz.dir {
			f.br, f.gz = nil, nil
		}
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return f
	}
	if prev, ok := d.entries[name]; ok && prev != missing {
		f = prev
	} else {
		d.entries[name] = f
		d.cached += f.memory()
		d.files.cached.Add(f.memory())
	}
	d.mu.Unlock()
	return f
}

// held returns the file at name when the folder knows whether it has one
// (ok), without reading the disk: nil for a name known to be missing.
func (d *staticDir) held(name string) (f *staticFile, ok bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	f, ok = d.entries[name]
	if f == missing {
		f = nil
	}
	return f, ok
}

// memory is how many bytes of contents f keeps.
func (f *staticFile) memory() int64 {
	n := int64(len(f.data))
	if f.br != nil {
		n += int64(len(f.br.data))
	}
	if f.gz != nil {
		n += int64(len(f.gz.data))
	}
	return n
}

// load reads what is known of one file through root, which refuses any
// path, symlinks included, that leads out of the folder.
func (d *staticDir) load(root *os.Root, name string) *staticFile {
	fi, err := root.Stat(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
			d.files.logger.Debug("static file refused", "dir", d.path, "name", name, "err", err)
		}
		return nil
	}
	if fi.IsDir() {
		return &staticFile{name: name, dir: true}
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	file, err := root.Open(name)
	if err != nil {
		return nil
	}
	defer file.Close()
	f := &staticFile{name: name, size: fi.Size(), modTime: fi.ModTime(), cacheControl: plainCache}
	h := sha256.New()
	var content io.Reader = file
	keep := fi.Size() <= maxCachedFile && d.files.cached.Load()+fi.Size() <= maxCachedTotal
	var buf bytes.Buffer
	if keep {
		buf.Grow(int(fi.Size()))
		content = io.TeeReader(file, &buf)
	}
	if _, err := io.Copy(h, content); err != nil {
		d.files.logger.Warn("could not read static file", "dir", d.path, "name", name, "err", err)
		return nil
	}
	if keep && int64(buf.Len()) == fi.Size() {
		f.data = buf.Bytes()
	}
	sum := h.Sum(nil)
	f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	f.contentType = contentTypeOf(name, f.data)
	if fingerprinted(path.Base(name)) {
		f.cacheControl = fingerprintCache
	}
	f.hType, f.hETag, f.hCache = []string{f.contentType}, []string{f.etag}, []string{f.cacheControl}
	f.hModified = []string{f.modTime.UTC().Format(http.TimeFormat)}
	f.hLength = []string{strconv.FormatInt(f.size, 10)}
	return f
}

// serve responds to a request under a static mount.
func (s *staticFiles) serve(w *recorder, r *http.Request, m *staticMount) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header()["Allow"] = []string{"GET, HEAD"}
		writePage(w, http.StatusMethodNotAllowed, "Static files answer GET and HEAD only.\n")
		return
	}
	f, from, toDir, _ := s.find(r, m, false)
	switch {
	case toDir:
		target := r.URL.EscapedPath() + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	case f == nil:
		staticNotFound(w)
	default:
		s.serveFile(w, r, from, f)
	}
}

// find returns the file a GET of r's path under m responds with, and the
// folder it is in; nil when there is none, and toDir when the path names
// a folder without its slash. With cachedOnly it looks only at what the
// folders have cached, and known is false when that is not enough to say.
func (s *staticFiles) find(r *http.Request, m *staticMount, cachedOnly bool) (f *staticFile, from *staticDir, toDir, known bool) {
	look := func(d *staticDir, name string) (*staticFile, bool) {
		if cachedOnly {
			return d.held(name)
		}
		return d.lookup(name), true
	}
	name, wantDir, ok := cleanStaticPath(r.URL.Path[len(m.prefix):])
	if !ok {
		return nil, nil, false, true
	}
	for _, d := range m.dirs {
		if f, known = look(d, name); !known {
			return nil, nil, false, false
		}
		if f != nil {
			from = d
			break
		}
	}
	switch {
	case f == nil:
	case f.dir && !wantDir:
		return nil, nil, true, true
	case f.dir:
		if f, known = look(from, path.Join(name, "index.html")); !known {
			return nil, nil, false, false
		}
		if f != nil && f.dir {
			f = nil
		}
	case wantDir:
		f = nil // a file asked for as a folder
	}
	return f, from, false, true
}

// respondsAtOnce reports whether serve responds to r from memory, without
// reading a file or a folder from disk.
func (s *staticFiles) respondsAtOnce(r *http.Request, m *staticMount) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	f, _, _, known := s.find(r, m, true)
	if !known {
		return false
	}
	return f == nil || f.inMemory() && (f.br == nil || f.br.inMemory()) && (f.gz == nil || f.gz.inMemory())
}

// inMemory reports whether f's contents are held in memory.
func (f *staticFile) inMemory() bool { return f.data != nil || f.size == 0 }

// serveFile sends f, or its precompressed sibling when the client takes it,
// with http.ServeContent doing the conditional and range requests.
func (s *staticFiles) serveFile(w *recorder, r *http.Request, d *staticDir, f *staticFile) {
	h := w.Header()
	body := f
	if f.br != nil || f.gz != nil {
		h["Vary"] = []string{"Accept-Encoding"}
		ae := r.Header.Get("Accept-Encoding")
		switch {
		case f.br != nil && acceptsEncoding(ae, "br"):
			body = f.br
			h["Content-Encoding"] = []string{"br"}
		case f.gz != nil && acceptsEncoding(ae, "gzip"):
			body = f.gz
			h["Content-Encoding"] = []string{"gzip"}
		}
	}
	h["Content-Type"] = f.hType
	h["Etag"] = body.hETag
	h["Cache-Control"] = f.hCache
	h["X-Content-Type-Options"] = nosniff
	if body.data != nil && plainGet(r) {
		// The common case, without ServeContent's parsing and copying.
		h["Last-Modified"] = f.hModified
		h["Accept-Ranges"] = acceptRanges
		h["Content-Length"] = body.hLength
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(body.data)
		}
		return
	}
	if rg := r.Header["Range"]; len(rg) > 0 && !sensibleRange(rg) {
		// RFC 9110 section 14.2: a server may ignore a Range it does not
		// take, and must one of another unit; the whole file goes instead.
		r.Header.Del("Range")
	}
	var content io.ReadSeeker
	if body.data != nil || body.size == 0 {
		content = bytes.NewReader(body.data)
	} else {
		root := d.openRoot()
		if root == nil {
			staticNotFound(w)
			return
		}
		file, err := root.Open(body.name)
		if err != nil {
			staticNotFound(w)
			return
		}
		defer file.Close()
		content = file
	}
	http.ServeContent(w, r, "", f.modTime, content)
}

// sensibleRange reports whether a Range header is one byte-range set of at
// most maxRanges well-formed ranges; ServeContent responds to the rest, 416
// included for ranges past the end.
func sensibleRange(values []string) bool {
	spec, ok := strings.CutPrefix(values[0], "bytes=")
	if len(values) != 1 || !ok || strings.Count(spec, ",") >= maxRanges {
		return false
	}
	for _, r := range strings.Split(spec, ",") {
		first, last, ok := strings.Cut(strings.TrimSpace(r), "-")
		if !ok || !digitsOnly(first, true) || !digitsOnly(last, true) || first == "" && last == "" {
			return false
		}
		if first != "" && last != "" {
			a, _ := strconv.ParseInt(first, 10, 64)
			b, _ := strconv.ParseInt(last, 10, 64)
			if a > b {
				return false
			}
		}
	}
	return true
}

func digitsOnly(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var (
	nosniff      = []string{"nosniff"}
	acceptRanges = []string{"bytes"}
)

// plainGet reports whether r asks for the whole file, unconditionally.
func plainGet(r *http.Request) bool {
	h := r.Header
	return len(h["Range"]) == 0 && len(h["If-None-Match"]) == 0 && len(h["If-Modified-Since"]) == 0 &&
		len(h["If-Match"]) == 0 && len(h["If-Unmodified-Since"]) == 0
}

func staticNotFound(w http.ResponseWriter) {
	writePage(w, http.StatusNotFound, "Not found.\n")
}

// cleanStaticPath turns the part of a URL path under a mount into a name
// inside the folder. It refuses (ok false) anything that could point
// outside or is not a plain path: "..", ".", empty segments, backslashes
// and NUL, whether they came encoded or not (the path is already decoded).
// wantDir is true for a path ending in / (or empty).
func cleanStaticPath(rel string) (name string, wantDir, ok bool) {
	if strings.ContainsAny(rel, "\\\x00") {
		return "", false, false
	}
	if rel == "" {
		return ".", true, true
	}
	wantDir = strings.HasSuffix(rel, "/")
	trimmed := strings.TrimSuffix(rel, "/")
	for rest := trimmed; ; {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." {
			return "", false, false
		}
		if !more {
			return trimmed, wantDir, true
		}
		rest = after
	}
}

// acceptsEncoding reports whether an Accept-Encoding value takes coding
// (with a q above zero).
func acceptsEncoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				v = strings.TrimSpace(v)
				return v != "0" && v != "0." && strings.Trim(v, "0.") != ""
			}
		}
		return true
	}
	return false
}

// fingerprinted reports whether a file name carries a content hash, as
// asset pipelines make them: app.3f9a2c1e.css (webpack, Django,
// Propshaft), index-BWh8ZmAq.js (Vite). Such a name never changes content,
// so it is cached for a year.
func fingerprinted(base string) bool {
	stem := strings.TrimSuffix(base, path.Ext(base))
	parts := strings.FieldsFunc(stem, func(r rune) bool { return r == '.' || r == '-' })
	for i := 1; i < len(parts); i++ {
		if isHexHash(parts[i]) || isBase64Hash(parts[i]) {
			return true
		}
	}
	return false
}

func isHexHash(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return digits > 0
}

// isBase64Hash matches Vite's 8-character hashes (BWh8ZmAq, DiwrgTda):
// two capitals or more, or a capital and a digit, which words rarely have.
func isBase64Hash(s string) bool {
	if len(s) != 8 {
		return false
	}
	upper, digit := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= '0' && c <= '9':
			digit++
		default:
			return false
		}
	}
	return upper >= 2 || upper >= 1 && digit >= 1
}

// contentTypes covers what static folders hold and Go's built-in table
// lacks.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".map": "application/json", ".html": "text/html; charset=utf-8",
	".htm": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
	".xml": "application/xml", ".svg": "image/svg+xml", ".png": "image/png",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/vnd.microsoft.icon",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".eot": "application/vnd.ms-fontobject", ".wasm": "application/wasm",
	".pdf": "application/pdf", ".webmanifest": "application/manifest+json",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
	".wav": "audio/wav", ".csv": "text/csv; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".zip": "application/zip", ".gz": "application/gzip", ".br": "application/x-brotli",
}

// contentTypeOf returns a file's Content-Type from its extension, else
// from its first bytes.
func contentTypeOf(name string, head []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	if head != nil {
		return http.DetectContentType(head)
	}
	return "application/octet-stream"
}
