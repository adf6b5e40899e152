package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jack-paas/jack"
)

// Keys of jack.yaml. laterManifestKeys belong to a later version of Jack; they are
// refused by name so that a manifest never half-works.
var (
	manifestKeys      = []string{"processes", "deploy", "release", "static", "cron", "volumes"}
	laterManifestKeys = []string{}
	processKeys       = []string{"command", "port", "instances", "health", "memory", "cpus", "stop_timeout"}
	healthCheckKeys   = []string{"path", "interval", "timeout"}
	deployKeys        = []string{"strategy", "batch", "drain", "timeout", "release_timeout"}
	cronKeys          = []string{"name", "schedule", "command", "timeout", "timezone", "overlap"}
)

// Parse reads a jack.yaml manifest; name is the file's name, used in
// errors. An empty file gives an empty manifest, to which
// Manifest.WithDefaults gives one web process. Every error is an EINVALID
// *jack.Error of one line, "NAME:LINE: what is wrong", naming the key that
// is wrong.
//
// A command given as a string is split into words as a shell would split
// it, honouring single quotes, double quotes and backslashes, but no shell
// runs it: a command that needs one ($VAR, pipes, &&) is refused with a hint
// to write it as [sh, -c, "..."].
func Parse(name string, data []byte) (*jack.Manifest, error) {
	if name == "" {
		name = "manifest"
	}
	p := &parser{file: name}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	m := &jack.Manifest{}
	if root != nil {
		if err := p.manifest(root, m); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, jack.Errorf(jack.EINVALID, "%s: %s", name, jack.ErrorMessage(err))
	}
	return m, nil
}

// parser turns a YAML node tree into a jack.Manifest, keeping the file's
// name for its errors.
type parser struct {
	file string
}

// errorf returns an EINVALID error pointing at the node's line.
func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return jack.Errorf(jack.EINVALID, "%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...))
}

// document parses data as one YAML document and returns its root node, nil
// when the document is empty.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, p.syntaxError(data, err)
	}
	for {
		var next yaml.Node
		if err := dec.Decode(&next); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, p.syntaxError(data, err)
		} else if len(next.Content) > 0 && !isNullNode(resolveAlias(next.Content[0])) {
			return nil, p.errorf(&next, "a second YAML document begins here; keep the manifest in one")
		}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if isNullNode(root) {
		return nil, nil
	}
	return root, nil
}

// syntaxError rewrites the YAML library's error in the "NAME:LINE: " form.
// The library reports the line where the enclosing block began, not where
// the problem is, so the line is found again: the first line at which the
// file, cut short there, fails with the same complaint.
func (p *parser) syntaxError(data []byte, err error) error {
	msg := yamlMessage(err)
	line := problemLine(data, msg)
	if line == 0 {
		return jack.Errorf(jack.EINVALID, "%s: %s", p.file, msg)
	}
	text := strings.Split(string(data), "\n")[line-1]
	if indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]; strings.Contains(indent, "\t") {
		msg += "; indent with spaces, since YAML does not allow tabs"
	}
	return jack.Errorf(jack.EINVALID, "%s:%d: %s", p.file, line, msg)
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?(?:line \d+: )?`)

// yamlMessage returns the YAML library's complaint without its prefixes,
// on one line.
func yamlMessage(err error) string {
	return yamlLineRE.ReplaceAllString(strings.ReplaceAll(err.Error(), "\n", " "), "")
}

// maxSearchLines bounds the search for a syntax error's line, which parses
// the file once per line.
const maxSearchLines = 1000

// problemLine returns the first line at which data, cut after it, fails to
// parse with the message msg; 0 if none does.
func problemLine(data []byte, msg string) int {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > maxSearchLines {
		return 0
	}
	prefix := ""
	for i, line := range lines {
		prefix += line
		dec := yaml.NewDecoder(strings.NewReader(prefix))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == nil {
				continue
			} else if !errors.Is(err, io.EOF) && yamlMessage(err) == msg {
				return i + 1
			}
			break
		}
	}
	return 0
}

// manifest reads the top-level mapping.
func (p *parser) manifest(root *yaml.Node, m *jack.Manifest) error {
	if root.Kind != yaml.MappingNode {
		return p.errorf(root, "expected a mapping with keys such as processes and deploy, got %s", describeNode(root))
	}
	return p.mapping(root, "", manifestKeys, func(key string, keyNode, value *yaml.Node) error {
		switch key {
		case "processes":
			return p.processes(value, m)
		case "deploy":
			return p.deploy(value, &m.Deploy)
		case "release":
			return p.release(value, m)
		case "cron":
			return p.cron(value, m)
		case "volumes":
			return p.volumes(value, m)
		case "static":
			return p.static(value, m)
		}
		return nil
	})
}

// processes reads the mapping of process names to processes, checking
// each process's values as it goes so that an error points at it.
func (p *parser) processes(n *yaml.Node, m *jack.Manifest) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "processes: expected a mapping of process names, such as web, got %s", describeNode(n))
	}
	m.Processes = map[string]*jack.Process{}
	return p.mapping(n, "processes", nil, func(name string, keyNode, value *yaml.Node) error {
		proc := &jack.Process{}
		if err := p.process(value, "processes."+name, proc); err != nil {
			return err
		}
		// Values that parse but make no sense, pointed at the process.
		if err := (&jack.Manifest{Processes: map[string]*jack.Process{name: proc}}).Validate(); err != nil {
			return p.errorf(keyNode, "%s", jack.ErrorMessage(err))
		}
		m.Processes[name] = proc
		return nil
	})
}

// process reads one process's keys into proc.
func (p *parser) process(n *yaml.Node, path string, proc *jack.Process) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s: expected a mapping with keys such as command and port, got %s", path, describeNode(n))
	}
	return p.mapping(n, path, processKeys, func(key string, keyNode, value *yaml.Node) (err error) {
		at := path + "." + key
		switch key {
		case "command":
			proc.Command, err = p.command(value, at)
		case "port":
			proc.Port, err = p.int(value, at)
		case "instances":
			proc.Instances, err = p.int(value, at)
		case "health":
			proc.Health, err = p.health(value, at)
		case "memory":
			proc.Memory, err = p.memory(value, at)
		case "cpus":
			proc.CPUs, err = p.float(value, at)
		case "stop_timeout":
			proc.Stop, err = p.duration(value, at)
		}
		return err
	})
}

// command reads a list of words, or a string split into words.
func (p *parser) command(n *yaml.Node, path string) ([]string, error) {
	switch {
	case isNullNode(n):
		return nil, nil
	case n.Kind == yaml.ScalarNode:
		words, err := splitWords(n.Value)
		if err != nil {
			return nil, p.errorf(n, "%s: %v", path, err)
		} else if len(words) == 0 {
			return nil, p.errorf(n, "%s is empty; remove it to run the image's own command", path)
		}
		return words, nil
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, p.errorf(n, "%s is empty; remove it to run the image's own command", path)
		}
		words := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			item = resolveAlias(item)
			if item.Kind != yaml.ScalarNode || isNullNode(item) {
				return nil, p.errorf(item, "%s[%d]: expected a string, got %s", path, i, describeNode(item))
			}
			words = append(words, item.Value)
		}
		return words, nil
	}
	return nil, p.errorf(n, "%s: expected a string or a list of strings, got %s", path, describeNode(n))
}

// health reads {path, interval, timeout}, or a bare string meaning the path.
func (p *parser) health(n *yaml.Node, path string) (*jack.HealthCheck, error) {
	if isNullNode(n) {
		return nil, nil
	}
	h := &jack.HealthCheck{}
	switch n.Kind {
	case yaml.ScalarNode:
		h.Path = n.Value
		return h, nil
	case yaml.MappingNode:
	default:
		return nil, p.errorf(n, "%s: expected a path such as /health or a mapping with keys path, interval and timeout, got %s", path, describeNode(n))
	}
	err := p.mapping(n, path, healthCheckKeys, func(key string, keyNode, value *yaml.Node) (err error) {
		at := path + "." + key
		switch key {
		case "path":
			h.Path, err = p.string(value, at)
		case "interval":
			h.Interval, err = p.duration(value, at)
		case "timeout":
			h.Timeout, err = p.duration(value, at)
		}
		return err
	})
	return h, err
}

// deploy reads how a deployment replaces instances.
func (p *parser) deploy(n *yaml.Node, d *jack.DeployPolicy) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "deploy: expected a mapping with keys such as strategy and drain, got %s", describeNode(n))
	}
	return p.mapping(n, "deploy", deployKeys, func(key string, keyNode, value *yaml.Node) (err error) {
		at := "deploy." + key
		switch key {
		case "strategy":
			if d.Strategy, err = p.string(value, at); err == nil && d.Strategy != "" {
				if err := jack.ValidateStrategy(d.Strategy); err != nil {
					return p.errorf(value, "%s", jack.ErrorMessage(err))
				}
			}
		case "batch":
			if d.Batch, err = p.int(value, at); err == nil && d.Batch < 0 {
				return p.errorf(value, "%s must be at least 1", at)
			}
		case "drain":
			d.Drain, err = p.duration(value, at)
		case "timeout":
			d.Timeout, err = p.duration(value, at)
		case "release_timeout":
			d.ReleaseTimeout, err = p.duration(value, at)
		}
		return err
	})
}
