package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/jack-paas/jack"
)

// Keys of a Dockerrun.aws.json version 1. Update and Authentication are
// read and ignored: Jack never pulls, so the image is on the engine.
var dockerrunKeys = []string{"AWSEBDockerrunVersion", "Image", "Ports", "Volumes", "Logging", "Entrypoint", "Command", "Authentication"}

// ParseDockerrun reads an Elastic Beanstalk Dockerrun.aws.json, version 1:
// Image.Name is the image deployed when no --image is given,
// Ports[0].ContainerPort the web process's port, Entrypoint and Command its
// command, each Volumes entry a volume of the environment named after its
// HostDirectory's last element and mounted at its ContainerDirectory, and
// Logging a volume "logs" mounted at that path, so log files outlive
// deploys as they do on Beanstalk's host. Version 2 is refused: it
// describes a multi-container ECS task.
func ParseDockerrun(name string, data []byte) (*jack.Manifest, error) {
	if name == "" {
		name = "Dockerrun.aws.json"
	}
	if err := jsonSyntax(name, data); err != nil {
		return nil, err
	}
	// JSON is YAML, and the YAML parser keeps lines for the errors.
	p := &parser{file: name}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, jack.Errorf(jack.EINVALID, "%s: expected a JSON object with AWSEBDockerrunVersion, Image and Ports", name)
	}
	d := &dockerrun{p: p, web: &jack.Process{}, m: &jack.Manifest{}}
	if err := d.read(root); err != nil {
		return nil, err
	}
	m := d.m
	if len(d.web.Command)+len(d.web.Entrypoint) > 0 || d.web.Port != 0 {
		m.Processes = map[string]*jack.Process{jack.DefaultProcessName: d.web}
	}
	if err := m.Validate(); err != nil {
		return nil, jack.Errorf(jack.EINVALID, "%s: %s", name, jack.ErrorMessage(err))
	}
	return m, nil
}

// jsonSyntax checks that data is one JSON value, reporting a syntax error
// at its line.
func jsonSyntax(name string, data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra == nil {
			err = errors.New("more than one JSON value")
		} else {
			return nil
		}
	}
	line := 1
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line += bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
	}
	return jack.Errorf(jack.EINVALID, "%s:%d: not valid JSON (%v)", name, line, err)
}

// dockerrun reads the fields of a Dockerrun.aws.json into a manifest.
type dockerrun struct {
	p       *parser
	m       *jack.Manifest
	web     *jack.Process
	version *yaml.Node
}

func (d *dockerrun) read(root *yaml.Node) error {
	p := d.p
	// The version first: a version 2 file has keys version 1 does not know.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "AWSEBDockerrunVersion" {
			d.version = resolveAlias(root.Content[i+1])
		}
	}
	if d.version == nil {
		return jack.Errorf(jack.EINVALID, "%s: AWSEBDockerrunVersion is missing; this file must say \"AWSEBDockerrunVersion\": \"1\"", p.file)
	}
	if d.version.Kind != yaml.ScalarNode || d.version.Value != "1" {
		if d.version.Value == "2" || d.version.Value == "3" {
			return p.errorf(d.version, "AWSEBDockerrunVersion %s describes a multi-container (ECS) environment, which Jack does not support; deploy each container as an app of its own, with a version 1 file or a jack.yaml", d.version.Value)
		}
		return p.errorf(d.version, "AWSEBDockerrunVersion %s is not known; Jack reads version 1", describeNode(d.version))
	}
	return p.mapping(root, "", dockerrunKeys, func(key string, keyNode, value *yaml.Node) (err error) {
		switch key {
		case "Image":
			err = d.image(value)
		case "Ports":
			err = d.ports(value)
		case "Volumes":
			err = d.volumes(value)
		case "Logging":
			var dir string
			if dir, err = p.string(value, "Logging"); err == nil && dir != "" {
				err = d.addVolume(value, "Logging", "logs", dir)
			}
		case "Entrypoint":
			d.web.Entrypoint, err = p.command(value, "Entrypoint")
		case "Command":
			d.web.Command, err = p.command(value, "Command")
		}
		return err
	})
}

func (d *dockerrun) image(n *yaml.Node) error {
	p := d.p
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "Image: expected an object with Name, got %s", describeNode(n))
	}
	return p.mapping(n, "Image", []string{"Name", "Update"}, func(key string, keyNode, value *yaml.Node) (err error) {
		if key == "Name" {
			d.m.Image, err = p.string(value, "Image.Name")
		}
		return err
	})
}

func (d *dockerrun) ports(n *yaml.Node) error {
	p := d.p
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "Ports: expected a list such as [{\"ContainerPort\": 8000}], got %s", describeNode(n))
	}
	for i, item := range n.Content {
		item = resolveAlias(item)
		at := "Ports[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			return p.errorf(item, "%s: expected an object with ContainerPort, got %s", at, describeNode(item))
		}
		port := 0
		err := p.mapping(item, at, []string{"ContainerPort", "HostPort"}, func(key string, keyNode, value *yaml.Node) (err error) {
			if key == "ContainerPort" {
				if port, err = p.int(value, at+".ContainerPort"); err == nil && (port < 1 || port > 65535) {
					err = p.errorf(value, "%s.ContainerPort %d is not a TCP port (1-65535)", at, port)
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		if i == 0 {
			if port == 0 {
				return p.errorf(item, "%s.ContainerPort is missing; give the port the app listens on", at)
			}
			d.web.Port = port // Beanstalk routes to the first port only
		}
	}
	return nil
}

func (d *dockerrun) volumes(n *yaml.Node) error {
	p := d.p
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "Volumes: expected a list of {HostDirectory, ContainerDirectory}, got %s", describeNode(n))
	}
	for i, item := range n.Content {
		item = resolveAlias(item)
		at := "Volumes[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			return p.errorf(item, "%s: expected an object with HostDirectory and ContainerDirectory, got %s", at, describeNode(item))
		}
		var host, dir string
		err := p.mapping(item, at, []string{"HostDirectory", "ContainerDirectory"}, func(key string, keyNode, value *yaml.Node) (err error) {
			switch key {
			case "HostDirectory":
				host, err = p.string(value, at+".HostDirectory")
			case "ContainerDirectory":
				dir, err = p.string(value, at+".ContainerDirectory")
			}
			return err
		})
		if err != nil {
			return err
		}
		if host == "" || dir == "" {
			return p.errorf(item, "%s: give both HostDirectory and ContainerDirectory", at)
		}
		if err := d.addVolume(item, at, volumeNameOf(host), dir); err != nil {
			return err
		}
	}
	return nil
}

// addVolume adds a volume of the environment, refusing a name or path
// used already.
func (d *dockerrun) addVolume(n *yaml.Node, at, name, dir string) error {
	if d.m.Volumes == nil {
		d.m.Volumes = map[string]string{}
	}
	if _, taken := d.m.Volumes[name]; taken {
		return d.p.errorf(n, "%s: volume name %s (from the host directory) is used twice; give the host directories different last names", at, name)
	}
	d.m.Volumes[name] = dir
	if err := jack.ValidateVolumes(d.m.Volumes); err != nil {
		return d.p.errorf(n, "%s: %s", at, jack.ErrorMessage(err))
	}
	return nil
}

// volumeNameOf makes a volume name of a host directory's last element:
// lowercase letters, digits and dashes.
func volumeNameOf(host string) string {
	base := strings.ToLower(path.Base(path.Clean("/" + host)))
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "data"
	}
	return name
}
