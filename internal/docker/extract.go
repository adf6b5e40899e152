package docker

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// extractLimits bound what one copy out of an image may write, so that an
// image can't fill the data folder's disk by accident.
type extractLimits struct {
	Bytes int64 // 0: 4 GiB
	Files int   // 0: 500,000
}

// extractTar writes the archive the engine sends for "FOLDER/." into dest.
// It never writes outside dest: names are cleaned and must stay inside;
// symlinks are kept only when they lead to somewhere inside the copied
// folder (absolute ones, written as the image sees them, are made
// relative) and refused otherwise; hard links must name a file already
// extracted; devices and pipes are skipped; modes are reduced to 0644 and
// 0755 and modification times kept (they are the files' Last-Modified).
// srcRoot is the folder's path in the image.
func extractTar(r io.Reader, dest, srcRoot string, limits extractLimits) error {
	if limits.Bytes == 0 {
		limits.Bytes = 4 << 30
	}
	if limits.Files == 0 {
		limits.Files = 500_000
	}
	tr := tar.NewReader(r)
	var written int64
	files := 0
	type dirTime struct {
		path string
		mod  time.Time
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read the copy of %s: %w", srcRoot, err)
		}
		rel, ok := archiveName(hdr.Name)
		if !ok {
			return jack.Errorf(jack.EINVALID, "static folder %s holds an entry named %q that leads out of it", srcRoot, hdr.Name)
		}
		if rel == "." {
			continue
		}
		files++
		if files > limits.Files {
			return jack.Errorf(jack.EINVALID, "static folder %s holds more than %d files; serve fewer, or from the app", srcRoot, limits.Files)
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		if err := insideExisting(dest, filepath.Dir(target)); err != nil {
			return jack.Errorf(jack.EINVALID, "static folder %s: %s is reached through a link; copy the files instead", srcRoot, rel)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", rel, err)
			}
			dirs = append(dirs, dirTime{target, hdr.ModTime})
		case tar.TypeReg:
			if written+hdr.Size > limits.Bytes {
				return jack.Errorf(jack.EINVALID, "static folder %s holds more than %d MiB; serve big files from elsewhere", srcRoot, limits.Bytes>>20)
			}
			n, err := writeFile(target, tr, hdr.ModTime)
			if err != nil {
				return fmt.Errorf("write %s: %w", rel, err)
			}
			written += n
		case tar.TypeSymlink:
			link, ok := linkInside(srcRoot, rel, hdr.Linkname)
			if !ok {
				return jack.Errorf(jack.EINVALID, "static folder %s: %s links to %s, outside the folder; copy the file into it instead", srcRoot, rel, hdr.Linkname)
			}
			if err := os.Symlink(link, target); err != nil {
				return fmt.Errorf("link %s: %w", rel, err)
			}
		case tar.TypeLink:
			other, ok := archiveName(hdr.Linkname)
			if !ok || other == "." {
				return jack.Errorf(jack.EINVALID, "static folder %s: %s is a hard link to %s, outside the folder", srcRoot, rel, hdr.Linkname)
			}
			if err := os.Link(filepath.Join(dest, filepath.FromSlash(other)), target); err != nil {
				return fmt.Errorf("link %s: %w", rel, err)
			}
		default:
			// Devices, pipes and sockets are not files to serve.
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i].path, dirs[i].mod, dirs[i].mod)
	}
	return nil
}

// archiveName cleans a name of the archive of "FOLDER/." (which starts with
// "./" or the folder's base name, depending on the engine) into a path
// relative to the folder, and says whether it stays inside.
func archiveName(name string) (string, bool) {
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", false
		}
	}
	name = strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(name, "./")), "/")
	if name == "" {
		return ".", true
	}
	if strings.Contains(name, "\\") || name == ".." || strings.HasPrefix(name, "../") {
		return "", false
	}
	return name, true
}

// linkInside returns the link target to write for a symlink at rel (a path
// inside the folder) pointing to target (as written in the image), or false
// when it leads out of the folder. Absolute targets are taken as the image
// sees them (under srcRoot) and made relative.
func linkInside(srcRoot, rel, target string) (string, bool) {
	if target == "" {
		return "", false
	}
	var resolved string
	if path.IsAbs(target) {
		t := path.Clean(target)
		root := path.Clean(srcRoot)
		if t != root && !strings.HasPrefix(t, root+"/") {
			return "", false
		}
		resolved = strings.TrimPrefix(strings.TrimPrefix(t, root), "/")
	} else {
		resolved = path.Clean(path.Join(path.Dir(rel), target))
		if resolved == ".." || strings.HasPrefix(resolved, "../") {
			return "", false
		}
	}
	if resolved == "" {
		resolved = "."
	}
	relLink, err := filepath.Rel(filepath.Dir(filepath.FromSlash(rel)), filepath.FromSlash(resolved))
	if err != nil {
		return "", false
	}
	return relLink, true
}

// insideExisting reports an error when dir, which must lie under root, is
// reached through a symlink (one extracted earlier, say), so that no write
// follows a link.
func insideExisting(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return errors.New("outside")
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." || part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil // made by MkdirAll below, as a real folder
		} else if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return errors.New("through a link")
		}
	}
	return nil
}

// writeFile creates a file with the reader's contents and modification
// time; it makes the parent folders it needs.
func writeFile(target string, r io.Reader, mod time.Time) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Chtimes(target, mod, mod)
}
