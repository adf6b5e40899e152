package jack

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// CronJob is a manifest's scheduled job: a command run as a one-off
// container of the environment's current release at each tick of its
// schedule. A run still going when the next tick comes makes that tick be
// skipped, unless Overlap is set.
type CronJob struct {
	Name     string   `json:"name"`
	Schedule string   `json:"schedule"` // 5-field cron syntax, @hourly and friends, or "@every 10m"
	Command  []string `json:"command"`
	// Timeout stops a run that takes longer; 0: no limit.
	Timeout Duration `json:"timeout,omitempty"`
	// Timezone is an IANA zone name the schedule is read in; "" is UTC.
	Timezone string `json:"timezone,omitempty"`
	// Overlap lets a run start while the previous one still runs.
	Overlap bool `json:"overlap,omitempty"`
}

// ParsedSchedule returns the job's schedule, parsed in its timezone.
func (j *CronJob) ParsedSchedule() (Schedule, error) {
	return ParseSchedule(j.Schedule, j.Timezone)
}

// Schedule gives the ticks of a cron job.
type Schedule interface {
	// Next returns the first tick strictly after t.
	Next(t time.Time) time.Time
	// Prev returns the last tick at or before t; the zero time if there is
	// none in the year before t.
	Prev(t time.Time) time.Time
}

// ValidateCron checks a manifest's cron entries: names valid and unique,
// schedules that parse, a command. Manifest.Validate calls it, and a parser
// calls it on the jobs read so far, to point at the job that is wrong.
func ValidateCron(jobs []*CronJob) error {
	seen := map[string]bool{}
	for i, j := range jobs {
		if j == nil {
			return Errorf(EINVALID, "cron[%d] is empty; give name, schedule and command", i)
		}
		if err := ValidateName("cron job", j.Name); err != nil {
			return Errorf(EINVALID, "cron[%d].name: %s", i, ErrorMessage(err))
		}
		if seen[j.Name] {
			return Errorf(EINVALID, "cron[%d].name: %q is used twice; give each job its own name", i, j.Name)
		}
		seen[j.Name] = true
		if _, err := j.ParsedSchedule(); err != nil {
			return Errorf(EINVALID, "cron %s: %s", j.Name, ErrorMessage(err))
		}
		if len(j.Command) == 0 {
			return Errorf(EINVALID, "cron %s: command is missing; give the command to run", j.Name)
		}
		if j.Timeout < 0 {
			return Errorf(EINVALID, "cron %s: timeout must be positive", j.Name)
		}
	}
	return nil
}

// ParseSchedule reads a schedule: five fields (minute hour day-of-month
// month day-of-week, with *, lists, ranges, steps and the names jan-dec and
// sun-sat), one of @yearly @annually @monthly @weekly @daily @midnight
// @hourly, or "@every DURATION" (at least 1s; ticks fall on whole multiples
// of the duration since the Unix epoch, so they are the same across
// restarts). tz is an IANA zone name, "" for UTC.
func ParseSchedule(spec, tz string) (Schedule, error) {
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, Errorf(EINVALID, "timezone %q is not known; give an IANA name such as Europe/Paris", tz)
		}
	}
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "@every"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d < time.Second {
			return nil, Errorf(EINVALID, "schedule %q: @every takes a duration of at least 1s, such as @every 10m", spec)
		}
		return every(d), nil
	}
	if alias, ok := scheduleAliases[spec]; ok {
		spec = alias
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, Errorf(EINVALID, "schedule %q has %d fields; write 5 (minute hour day month weekday), such as \"0 3 * * *\", or @every 10m", spec, len(fields))
	}
	s := &cronSchedule{loc: loc}
	for i, f := range cronFields {
		set, err := f.parse(fields[i])
		if err != nil {
			return nil, Errorf(EINVALID, "schedule %q: %s field %q %v", spec, f.name, fields[i], err)
		}
		*s.field(i) = set
	}
	// Sunday is 0 or 7.
	if s.dow&(1<<7) != 0 {
		s.dow |= 1
	}
	s.domStar, s.dowStar = fields[2] == "*" || fields[2] == "?", fields[4] == "*" || fields[4] == "?"
	return s, nil
}

var scheduleAliases = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// every ticks at whole multiples of a duration since the epoch.
type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := int64(e)
	n := t.UnixNano()
	next := (n/d + 1) * d
	if n < 0 && n%d != 0 {
		next = (n / d) * d
	}
	return time.Unix(0, next).In(t.Location())
}

func (e every) Prev(t time.Time) time.Time {
	d := int64(e)
	n := t.UnixNano()
	prev := (n / d) * d
	if prev > n {
		prev -= d
	}
	return time.Unix(0, prev).In(t.Location())
}

// cronField is one of the five fields: its name, range and names.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day-of-week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// parse reads a field into a bit set: lists of *, N, N-M, with /STEP.
func (f cronField) parse(s string) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("has step %q; give a whole number of at least 1", stepText)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*" || rng == "?":
			if f.name == "day-of-week" {
				hi = 6
			}
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("has a range %s that runs backwards", rng)
				}
			} else if hasStep {
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// value reads a number or a name within the field's range.
func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("is not a number%s", f.nameHint())
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("is out of range (%d-%d)", f.min, f.max)
	}
	return v, nil
}

func (f cronField) nameHint() string {
	if len(f.names) == 0 {
		return ""
	}
	return " or a name such as " + f.names[1]
}

// cronSchedule is a parsed 5-field schedule: a bit set per field.
type cronSchedule struct {
	minute, hour, dom, month, dow uint64
	domStar, dowStar              bool
	loc                           *time.Location
}

func (s *cronSchedule) field(i int) *uint64 {
	return [...]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}[i]
}

// dayMatches applies cron's rule: when both day fields are restricted, a
// day matching either one matches.
func (s *cronSchedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<t.Day()) != 0
	dow := s.dow&(1<<int(t.Weekday())) != 0
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dow
	case s.dowStar:
		return dom
	}
	return dom || dow
}

// Next walks forward a field at a time: month, day, hour, minute.
func (s *cronSchedule) Next(t time.Time) time.Time {
	orig := t.Location()
	t = t.In(s.loc).Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		if s.month&(1<<int(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, s.loc)
			continue
		}
		if !s.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc)
			continue
		}
		if s.hour&(1<<t.Hour()) == 0 {
			t = t.Truncate(time.Hour).Add(time.Hour)
			if t.Minute() != 0 { // zones with half-hour offsets
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, s.loc)
			}
			continue
		}
		if s.minute&(1<<t.Minute()) == 0 {
			if next := s.minute >> (t.Minute() + 1); next != 0 {
				t = t.Add(time.Duration(bits.TrailingZeros64(next)+1) * time.Minute)
			} else {
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, s.loc)
			}
			continue
		}
		return t.In(orig)
	}
	return time.Time{}
}

// Prev finds the last tick at or before t by stepping back a day at a time
// and taking the day's last tick not after t.
func (s *cronSchedule) Prev(t time.Time) time.Time {
	orig := t.Location()
	t = t.In(s.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
	for i := 0; i < 366; i++ {
		if s.month&(1<<int(day.Month())) != 0 && s.dayMatches(day) {
			var last time.Time
			for tick := s.Next(day.Add(-time.Minute)); !tick.IsZero() && !tick.After(t) && sameDay(tick, day); tick = s.Next(tick) {
				last = tick
			}
			if !last.IsZero() {
				return last.In(orig)
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()-1, 0, 0, 0, 0, s.loc)
	}
	return time.Time{}
}

func sameDay(a, b time.Time) bool {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	return ya == yb && ma == mb && da == db
}
