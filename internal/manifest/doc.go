// Package manifest reads the files that say how to run a version's image
// into a jack.Manifest: jack.yaml (Parse), a Heroku Procfile
// (ParseProcfile) and an Elastic Beanstalk Dockerrun.aws.json version 1
// (ParseDockerrun); ParseFile picks one by the file's name. It keeps YAML
// and JSON out of the domain: the root package holds the Manifest and the
// checks of its values (Manifest.Validate), which every parser calls, and
// this package holds the syntax, pointing each error at the file, line and
// key that are wrong.
package manifest
