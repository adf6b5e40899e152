package docker

import (
	"encoding/binary"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/jack-paas/jack"
)

// folderWatch tells the file streams when the engine writes to, rotates or
// closes a file of their container's log folder: one inotify instance for
// all the folders the runtime reads (the kernel allows only 128 instances
// per user by default, and the engine uses some of them).
//
// A folder is watched for writes only while one of its streams waits for
// them (arm/disarm): with a watch for writes, the kernel queues an event at
// every write(2) of the engine, which slowed a container writing flat out
// (bench/README.md, bench/logs.sh). Renames, creations and closes are
// watched all along; they are rare.
type folderWatch struct {
	f      *os.File
	logger *slog.Logger

	mu      sync.Mutex
	folders map[string]*watchedFolder
	byWD    map[int32]*watchedFolder
}

// watchedFolder is a folder watched, the streams that read it (true for
// those waiting for writes), and how many of them wait.
type watchedFolder struct {
	path    string
	wd      int32
	streams map[*fileStream]bool
	armed   int
}

// The events watched all along and while armed, and those that say a file
// was closed by its writer (or the folder is gone).
const (
	watchEvents = unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_ONLYDIR
	armedEvents = watchEvents | unix.IN_MODIFY
	closeEvents = unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_IGNORED | unix.IN_Q_OVERFLOW
)

func newFolderWatch(logger *slog.Logger) (*folderWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &folderWatch{
		f: os.NewFile(uintptr(fd), "inotify"), logger: logger,
		folders: map[string]*watchedFolder{}, byWD: map[int32]*watchedFolder{},
	}
	go w.run()
	return w, nil
}

// add makes the watch wake s on changes in path.
func (w *folderWatch) add(path string, s *fileStream) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.folders[path]; f != nil {
		f.streams[s] = false
		return nil
	}
	wd, err := unix.InotifyAddWatch(int(w.f.Fd()), path, watchEvents)
	if err != nil {
		return err
	}
	f := &watchedFolder{path: path, wd: int32(wd), streams: map[*fileStream]bool{s: false}}
	w.byWD[f.wd] = f
	w.folders[path] = f
	return nil
}

// remove stops waking s; the folder is no longer watched once no stream
// reads it.
func (w *folderWatch) remove(path string, s *fileStream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.folders[path]
	if f == nil {
		return
	}
	w.setArmed(f, s, false)
	delete(f.streams, s)
	if len(f.streams) == 0 {
		delete(w.folders, path)
		delete(w.byWD, f.wd)
		unix.InotifyRmWatch(int(w.f.Fd()), uint32(f.wd)) // fails if the folder is gone: fine
	}
}

// arm makes the watch wake s at the engine's writes too (on), or no
// longer (off).
func (w *folderWatch) arm(path string, s *fileStream, on bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.folders[path]; f != nil {
		return w.setArmed(f, s, on)
	}
	return nil
}

// setArmed records whether s waits for writes, and watches the folder for
// them while any of its streams does. The caller holds w.mu.
func (w *folderWatch) setArmed(f *watchedFolder, s *fileStream, on bool) error {
	was, ok := f.streams[s]
	if !ok || was == on {
		return nil
	}
	f.streams[s] = on
	before := f.armed
	if on {
		f.armed++
	} else {
		f.armed--
	}
	if (before == 0) == (f.armed == 0) {
		return nil
	}
	mask := uint32(watchEvents)
	if f.armed > 0 {
		mask = armedEvents
	}
	// On a folder watched already, this replaces the events watched.
	_, err := unix.InotifyAddWatch(int(w.f.Fd()), f.path, mask)
	return err
}

// run reads the events until the watch is closed.
func (w *folderWatch) run() {
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return // closed
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			off += unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
			w.dispatch(wd, mask)
		}
	}
}

// dispatch wakes the streams of the folder an event is about; all of them
// when the kernel dropped events.
func (w *folderWatch) dispatch(wd int32, mask uint32) {
	closed := mask&closeEvents != 0
	w.mu.Lock()
	defer w.mu.Unlock()
	if mask&unix.IN_Q_OVERFLOW != 0 {
		w.logger.Debug("the log folder watch overflowed; waking every reader")
		for _, f := range w.folders {
			for s := range f.streams {
				s.notify(true)
			}
		}
		return
	}
	if f := w.byWD[wd]; f != nil {
		for s := range f.streams {
			s.notify(closed)
		}
	}
}

// close stops the watch.
func (w *folderWatch) close() { w.f.Close() }

// logFiles is the runtime's state for reading the local driver's files:
// where the engine keeps them, the folder watch, and the open streams by
// container, so that Stop can wake those of a container it stopped.
type logFiles struct {
	mode string // logReaderAuto, logReaderFiles or logReaderAPI

	mu       sync.Mutex
	root     string // the engine's data folder, once known
	watch    *folderWatch
	watchErr error
	streams  map[string]map[*fileStream]struct{}
	broken   bool // a file was not in the expected format: use the API
}

// register adds an open stream; true if the folder watch wakes it.
func (l *logFiles) register(s *fileStream) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streams == nil {
		l.streams = map[string]map[*fileStream]struct{}{}
	}
	if l.streams[s.id] == nil {
		l.streams[s.id] = map[*fileStream]struct{}{}
	}
	l.streams[s.id][s] = struct{}{}
	if l.watch == nil && l.watchErr == nil {
		l.watch, l.watchErr = newFolderWatch(s.r.logger)
		if l.watchErr != nil {
			s.r.logger.Warn("can't watch the engine's log files; polling them", "err", l.watchErr)
		}
	}
	if l.watch == nil {
		return false
	}
	if err := l.watch.add(s.dir, s); err != nil {
		s.r.logger.Warn("can't watch a container's log folder; polling it", "container", jack.ShortID(s.id), "err", err)
		return false
	}
	return true
}

// unregister forgets a closed stream.
func (l *logFiles) unregister(s *fileStream) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.streams[s.id], s)
	if len(l.streams[s.id]) == 0 {
		delete(l.streams, s.id)
	}
	if l.watch != nil {
		l.watch.remove(s.dir, s)
	}
}

// wakeContainer makes the streams of a container ask the engine at once
// whether it still runs: Stop calls it once the container stopped.
func (l *logFiles) wakeContainer(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.streams[id] {
		s.notify(true)
	}
}

// formatFailed turns the file reader off for good after a file that is not
// in the format Jack knows: streams opened later read through the API.
func (l *logFiles) formatFailed(r *Runtime, id string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.broken {
		r.logger.Warn("the engine's log files are not in the format Jack reads; reading logs through the engine's API from now on (slower)",
			"container", jack.ShortID(id), "err", err)
	}
	l.broken = l.mode != logReaderFiles
}

// close stops the folder watch.
func (l *logFiles) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watch != nil {
		l.watch.close()
	}
}

// arm makes the folder watch wake s at the engine's writes (on), or no
// longer.
func (l *logFiles) arm(s *fileStream, on bool) error {
	l.mu.Lock()
	w := l.watch
	l.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.arm(s.dir, s, on)
}
