package manifest

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jack-paas/jack"
)

// staticKeys are the keys of a static entry.
var staticKeys = []string{"url", "path"}

// static reads the list of {url, path} entries. A URL without its
// trailing slash gets one: /static means the folder /static/.
func (p *parser) static(n *yaml.Node, m *jack.Manifest) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "static: expected a list of {url, path} entries, got %s", describeNode(n))
	}
	m.Static = nil
	for i, item := range n.Content {
		item = resolveAlias(item)
		at := "static[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			return p.errorf(item, "%s: expected a mapping with keys url and path, got %s", at, describeNode(item))
		}
		var e jack.StaticEntry
		err := p.mapping(item, at, staticKeys, func(key string, keyNode, value *yaml.Node) (err error) {
			switch key {
			case "url":
				e.URL, err = p.string(value, at+".url")
			case "path":
				e.Path, err = p.string(value, at+".path")
			}
			return err
		})
		if err != nil {
			return err
		}
		if e.URL != "" && !strings.HasSuffix(e.URL, "/") {
			e.URL += "/"
		}
		if err := jack.ValidateStaticEntry(at, e, m.Static); err != nil {
			return p.errorf(item, "%s", jack.ErrorMessage(err))
		}
		m.Static = append(m.Static, e)
	}
	return nil
}
