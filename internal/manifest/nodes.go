package manifest

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jack-paas/jack"
)

// mapping calls fn for each key of the mapping n, in order, refusing
// repeated keys, keys of a later version of Jack at the top level, and,
// when known is not nil, keys not in it. path names the mapping in errors
// ("" for the top level).
func (p *parser) mapping(n *yaml.Node, path string, known []string, fn func(key string, keyNode, value *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, value := resolveAlias(n.Content[i]), resolveAlias(n.Content[i+1])
		if keyNode.Kind != yaml.ScalarNode {
			return p.errorf(keyNode, "%s: expected a name as key, got %s", mappingName(path), describeNode(keyNode))
		}
		key := keyNode.Value
		if line, ok := seen[key]; ok {
			return p.errorf(keyNode, "key %q appears twice in %s (first on line %d)", key, mappingName(path), line)
		}
		seen[key] = keyNode.Line
		if known != nil && !slices.Contains(known, key) {
			if path == "" && slices.Contains(laterManifestKeys, key) {
				return p.errorf(keyNode, "%s is not supported by this version of Jack yet", key)
			}
			return p.errorf(keyNode, "unknown key %q in %s (known: %s)", key, mappingName(path), strings.Join(known, ", "))
		}
		if err := fn(key, keyNode, value); err != nil {
			return err
		}
	}
	return nil
}

// string reads a scalar as it is written; an empty value reads as "".
func (p *parser) string(n *yaml.Node, path string) (string, error) {
	if isNullNode(n) {
		return "", nil
	} else if n.Kind != yaml.ScalarNode {
		return "", p.errorf(n, "%s: expected a string, got %s", path, describeNode(n))
	}
	return n.Value, nil
}

// int reads a whole number that fits in 32 bits.
func (p *parser) int(n *yaml.Node, path string) (int, error) {
	if isNullNode(n) {
		return 0, nil
	} else if n.Kind != yaml.ScalarNode {
		return 0, p.errorf(n, "%s: expected a number, got %s", path, describeNode(n))
	}
	v, err := strconv.ParseInt(n.Value, 10, 32)
	if err == nil {
		return int(v), nil
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, p.errorf(n, "%s: %s is out of range", path, n.Value)
	} else if _, ferr := strconv.ParseFloat(n.Value, 64); ferr == nil {
		return 0, p.errorf(n, "%s: expected a whole number, got %s", path, n.Value)
	}
	return 0, p.errorf(n, "%s: expected a number, got %q", path, n.Value)
}

// float reads a finite number.
func (p *parser) float(n *yaml.Node, path string) (float64, error) {
	if isNullNode(n) {
		return 0, nil
	} else if n.Kind != yaml.ScalarNode {
		return 0, p.errorf(n, "%s: expected a number, got %s", path, describeNode(n))
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, p.errorf(n, "%s: expected a number, got %q", path, n.Value)
	}
	return v, nil
}

// duration reads a duration such as 30s, refusing a negative one.
func (p *parser) duration(n *yaml.Node, path string) (jack.Duration, error) {
	if isNullNode(n) {
		return 0, nil
	} else if n.Kind != yaml.ScalarNode {
		return 0, p.errorf(n, "%s: expected a duration such as 30s, got %s", path, describeNode(n))
	}
	var d jack.Duration
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return 0, p.errorf(n, "%s: %v", path, err)
	} else if d < 0 {
		return 0, p.errorf(n, "%s: %q is negative; give a positive duration like 30s", path, n.Value)
	}
	return d, nil
}

// memory reads a size such as 512m, in bytes.
func (p *parser) memory(n *yaml.Node, path string) (int64, error) {
	if isNullNode(n) {
		return 0, nil
	} else if n.Kind != yaml.ScalarNode {
		return 0, p.errorf(n, "%s: expected a size such as 512m, got %s", path, describeNode(n))
	}
	v, err := jack.ParseSize(n.Value)
	if err != nil {
		return 0, p.errorf(n, "%s: %v", path, err)
	}
	return v, nil
}

// resolveAlias follows aliases to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNullNode reports whether n is an empty value, such as "key:" with nothing
// after it; an empty value leaves the field unset.
func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describeNode says what a node is, for "expected X, got Y" errors.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNullNode(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// mappingName names a mapping in errors.
func mappingName(path string) string {
	if path == "" {
		return "the manifest"
	}
	return path
}

// bool reads true or false; yes, no, on and off too, as YAML 1.1 does.
func (p *parser) bool(n *yaml.Node, path string) (bool, error) {
	if isNullNode(n) {
		return false, nil
	}
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
	}
	return false, p.errorf(n, "%s: expected true or false, got %s", path, describeNode(n))
}
