package metrics

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	jack "github.com/jack-paas/jack"
)

// maxPacket keeps each datagram within a typical MTU, as the Datadog agent
// recommends.
const maxPacket = 1432

// StatsD pushes each round's numbers to a StatsD or DogStatsD agent over
// UDP, tagged DogStatsD style (#app:notes,env:production,process:web,
// instance:web.1). Gauges carry levels; counts carry what moved since the
// previous round.
type StatsD struct {
	conn   net.Conn
	prefix string
}

// NewStatsD resolves addr (HOST:PORT) and returns a pusher to it. Names get
// prefix ("jack." when empty). An address that does not resolve is EINVALID.
func NewStatsD(addr, prefix string) (*StatsD, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, jack.Errorf(jack.EINVALID, "--statsd %q is not HOST:PORT; give the address of a StatsD or DogStatsD agent, such as 127.0.0.1:8125", addr)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "--statsd %q does not resolve (%v); give the address of a StatsD or DogStatsD agent, such as 127.0.0.1:8125", addr, rootErr(err))
	}
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "--statsd %q: %v", addr, rootErr(err))
	}
	if prefix == "" {
		prefix = "jack."
	}
	return &StatsD{conn: conn, prefix: prefix}, nil
}

// Close closes the socket.
func (s *StatsD) Close() error { return s.conn.Close() }

// push sends one round.
func (s *StatsD) push(rounds []*envRound) error {
	b := &batch{conn: s.conn}
	for _, r := range rounds {
		envTags := "app:" + r.env.App + ",env:" + r.env.Name
		if r.health != nil {
			s.line(b, "environment.health", strconv.Itoa(jack.HealthRank(r.health.State)), "g", envTags+",state:"+r.health.State)
			s.line(b, "http.error_share", formatFloat(r.health.ErrorShare), "g", envTags)
			s.line(b, "http.request.p95_seconds", formatFloat(r.health.P95), "g", envTags)
		}
		if t := r.traffic; t != nil {
			for _, class := range sortedClasses(t.total.byClass) {
				s.line(b, "http.requests", strconv.FormatUint(t.total.byClass[class], 10), "c", envTags+",code:"+class)
			}
			s.line(b, "http.request_bytes", strconv.FormatUint(t.total.bytesIn, 10), "c", envTags)
			s.line(b, "http.response_bytes", strconv.FormatUint(t.total.bytesOut, 10), "c", envTags)
		}
		for _, ir := range r.instances {
			tags := envTags + ",process:" + ir.inst.Process + ",instance:" + ir.inst.Name
			healthy := "0"
			if ir.inst.State == jack.InstanceHealthy {
				healthy = "1"
			}
			s.line(b, "instance.healthy", healthy, "g", tags)
			if ir.moved.restarts > 0 {
				s.line(b, "instance.restarts", strconv.Itoa(ir.moved.restarts), "c", tags)
			}
			if ir.sample == nil {
				continue
			}
			st := ir.sample.stats
			if ir.sample.hasRate {
				s.line(b, "instance.cpu.percent", formatFloat(ir.sample.cpuPercent), "g", tags)
			}
			s.line(b, "instance.memory.working_set", strconv.FormatUint(st.MemoryWorkingSet, 10), "g", tags)
			s.line(b, "instance.memory.usage", strconv.FormatUint(st.MemoryUsage, 10), "g", tags)
			if st.MemoryLimit > 0 {
				s.line(b, "instance.memory.limit", strconv.FormatUint(st.MemoryLimit, 10), "g", tags)
			}
			s.line(b, "instance.network.rx_bytes", strconv.FormatUint(ir.moved.netRx, 10), "c", tags)
			s.line(b, "instance.network.tx_bytes", strconv.FormatUint(ir.moved.netTx, 10), "c", tags)
			s.line(b, "instance.block.read_bytes", strconv.FormatUint(ir.moved.blockRead, 10), "c", tags)
			s.line(b, "instance.block.write_bytes", strconv.FormatUint(ir.moved.blockWrite, 10), "c", tags)
		}
	}
	return b.flush()
}

// line adds "PREFIXname:value|type|#tags".
func (s *StatsD) line(b *batch, name, value, kind, tags string) {
	b.add(s.prefix + name + ":" + value + "|" + kind + "|#" + sanitizeTags(tags))
}

// batch packs lines into datagrams of at most maxPacket bytes.
type batch struct {
	conn net.Conn
	buf  bytes.Buffer
	err  error
}

func (b *batch) add(line string) {
	if b.buf.Len() > 0 && b.buf.Len()+1+len(line) > maxPacket {
		b.flush()
	}
	if b.buf.Len() > 0 {
		b.buf.WriteByte('\n')
	}
	b.buf.WriteString(line)
}

func (b *batch) flush() error {
	if b.buf.Len() > 0 {
		if _, err := b.conn.Write(b.buf.Bytes()); err != nil && b.err == nil {
			b.err = fmt.Errorf("send to StatsD: %w", err)
		}
		b.buf.Reset()
	}
	return b.err
}

// sanitizeTags keeps the separators of DogStatsD out of tag values.
func sanitizeTags(s string) string {
	return strings.NewReplacer("|", "_", "\n", "_", "#", "_").Replace(s)
}

func sortedClasses(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// rootErr strips net.OpError and net.DNSError wrapping to the cause.
func rootErr(err error) error {
	var dns *net.DNSError
	if e, ok := err.(*net.DNSError); ok {
		dns = e
	}
	if dns != nil {
		return fmt.Errorf("%s: %s", dns.Name, dns.Err)
	}
	return err
}
