package manifest

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/jack-paas/jack"
)

// release reads the release command: a string of shell words or a list.
func (p *parser) release(n *yaml.Node, m *jack.Manifest) error {
	words, err := p.command(n, "release")
	if err != nil {
		return err
	}
	m.Release = words
	return nil
}

// cron reads the list of scheduled jobs.
func (p *parser) cron(n *yaml.Node, m *jack.Manifest) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "cron: expected a list of jobs such as - {name: cleanup, schedule: \"0 3 * * *\", command: ...}, got %s", describeNode(n))
	}
	for i, item := range n.Content {
		item = resolveAlias(item)
		at := "cron[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			return p.errorf(item, "%s: expected a mapping with keys name, schedule and command, got %s", at, describeNode(item))
		}
		job := &jack.CronJob{}
		var scheduleNode *yaml.Node
		err := p.mapping(item, at, cronKeys, func(key string, keyNode, value *yaml.Node) (err error) {
			switch key {
			case "name":
				job.Name, err = p.string(value, at+".name")
			case "schedule":
				scheduleNode = value
				job.Schedule, err = p.string(value, at+".schedule")
			case "command":
				job.Command, err = p.command(value, at+".command")
			case "timeout":
				job.Timeout, err = p.duration(value, at+".timeout")
			case "timezone":
				job.Timezone, err = p.string(value, at+".timezone")
			case "overlap":
				job.Overlap, err = p.bool(value, at+".overlap")
			}
			return err
		})
		if err != nil {
			return err
		}
		switch {
		case job.Name == "":
			return p.errorf(item, "%s.name is missing; give each job a name", at)
		case job.Schedule == "":
			return p.errorf(item, "%s.schedule is missing; give one such as \"0 3 * * *\" or \"@every 10m\"", at)
		case len(job.Command) == 0:
			return p.errorf(item, "%s.command is missing; give the command to run", at)
		}
		if _, err := job.ParsedSchedule(); err != nil {
			return p.errorf(scheduleNode, "%s.schedule: %s", at, jack.ErrorMessage(err))
		}
		m.Cron = append(m.Cron, job)
		if err := jack.ValidateCron(m.Cron); err != nil {
			return p.errorf(item, "%s", jack.ErrorMessage(err))
		}
	}
	return nil
}

// volumes reads the mapping of volume names to paths.
func (p *parser) volumes(n *yaml.Node, m *jack.Manifest) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "volumes: expected a mapping of names to paths, such as data: /data, got %s", describeNode(n))
	}
	m.Volumes = map[string]string{}
	return p.mapping(n, "volumes", nil, func(name string, keyNode, value *yaml.Node) error {
		path, err := p.string(value, "volumes."+name)
		if err != nil {
			return err
		}
		if path == "" {
			return p.errorf(value, "volumes.%s: give the path to mount it at, such as /data", name)
		}
		m.Volumes[name] = path
		if err := jack.ValidateVolumes(map[string]string{name: path}); err != nil {
			return p.errorf(value, "%s", jack.ErrorMessage(err))
		}
		if err := jack.ValidateVolumes(m.Volumes); err != nil {
			return p.errorf(value, "%s", jack.ErrorMessage(err))
		}
		return nil
	})
}
