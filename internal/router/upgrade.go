package router

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// closeGrace is how long a WebSocket client cut by a drain is given to
// answer the router's close frame before its connection is closed.
const closeGrace = time.Second

// serveUpgrade carries an upgraded connection (a WebSocket, say) between
// the client and the upstream, byte for byte, until either side closes it.
// When a drain cuts it, a WebSocket client gets a close frame with status
// 1001 (going away) at a frame boundary, so it reconnects as it would when
// any server restarts; other protocols are closed.
func (p *Proxy) serveUpgrade(w *recorder, r *http.Request, f *flight, ex *exchange) {
	ex.headRead()
	w.upstream = f.target.state
	ex.stop() // the upgrade handles the flight's end itself, below
	client, brw, err := w.hijack()
	if err != nil {
		ex.abandon()
		p.handleError(w, r, f, err)
		return
	}
	defer client.Close()
	defer ex.conn.Conn.Close()
	w.status, w.wroteHeader = http.StatusSwitchingProtocols, true
	head := upgradeHead(ex.resp)
	if _, err := client.Write(head); err != nil {
		return
	}
	w.bytes += int64(len(head))

	websocket := strings.EqualFold(f.upgrade, "websocket")
	var fromUp, fromClient wsFrames
	var sentMu sync.Mutex
	var sent int64
	upDone := make(chan error, 1)
	clientDone := make(chan error, 1)
	go func() { // upstream → client
		buf := p.buffers.get()
		defer p.buffers.put(buf)
		for {
			n, err := ex.conn.br.Read(buf)
			if n > 0 {
				if websocket {
					fromUp.feed(buf[:n])
				}
				if _, werr := client.Write(buf[:n]); werr != nil {
					upDone <- werr
					return
				}
				sentMu.Lock()
				sent += int64(n)
				sentMu.Unlock()
			}
			if err != nil {
				upDone <- err
				return
			}
		}
	}()
	go func() { // client → upstream
		buf := p.buffers.get()
		defer p.buffers.put(buf)
		for {
			n, err := brw.Reader.Read(buf)
			if n > 0 {
				if websocket {
					fromClient.feed(buf[:n])
				}
				if _, werr := ex.conn.Conn.Write(buf[:n]); werr != nil {
					clientDone <- werr
					return
				}
				if websocket && fromClient.closed && f.Err() != nil {
					clientDone <- io.EOF // the client answered our close frame
					return
				}
			}
			if err != nil {
				clientDone <- err
				return
			}
		}
	}()
	cut := f.closeOnCut(ex.conn.Conn)
	defer f.keep(cut)

	select {
	case <-upDone:
		if f.Err() != nil && websocket && fromUp.atBoundary() && !fromUp.closed {
			// Cut by a drain: say goodbye properly, then give the client a
			// moment to answer before the connection goes.
			if _, err := client.Write(closeGoingAway); err == nil {
				sentMu.Lock()
				sent += int64(len(closeGoingAway))
				sentMu.Unlock()
				client.SetReadDeadline(time.Now().Add(closeGrace))
				<-clientDone
				break
			}
		}
		client.Close()
		<-clientDone
	case <-clientDone:
		if tc, ok := ex.conn.Conn.(*net.TCPConn); ok {
			tc.CloseWrite() // let the app see the end and finish its side
		}
		ex.conn.Conn.SetReadDeadline(time.Now().Add(closeGrace))
		<-upDone
	}
	sentMu.Lock()
	w.bytes += sent
	sentMu.Unlock()
}

// closeGoingAway is a WebSocket close frame from a server with status 1001.
var closeGoingAway = []byte{0x88, 0x02, 0x03, 0xe9}

// upgradeHead is the 101 response's head as it goes to the client.
func upgradeHead(resp *http.Response) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	tokens := connectionTokens(resp.Header)
	for k, vv := range resp.Header {
		if k == "Connection" || k == "Upgrade" || hopHeaders[k] || tokens[k] {
			continue
		}
		for _, v := range vv {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("Connection: Upgrade\r\n")
	for _, v := range resp.Header["Upgrade"] {
		b.WriteString("Upgrade: " + v + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// wsFrames follows the frame boundaries of one direction of a WebSocket
// byte stream (RFC 6455 section 5.2), without buffering it.
type wsFrames struct {
	head      [14]byte
	headLen   int
	remaining uint64 // payload bytes left in the current frame
	opcode    byte
	closed    bool // a whole close frame has passed
}

// feed advances over b.
func (t *wsFrames) feed(b []byte) {
	for len(b) > 0 {
		if t.remaining > 0 {
			n := uint64(len(b))
			if n > t.remaining {
				n = t.remaining
			}
			t.remaining -= n
			b = b[n:]
			if t.remaining == 0 && t.opcode == 0x8 {
				t.closed = true
			}
			continue
		}
		t.head[t.headLen] = b[0]
		t.headLen++
		b = b[1:]
		if need := t.headSize(); t.headLen == need {
			t.startFrame()
		}
	}
}

// headSize is the length of the frame head begun in t.head, or 2 until its
// second byte is known.
func (t *wsFrames) headSize() int {
	if t.headLen < 2 {
		return 2 + 12 // not yet known; more than any count reached first
	}
	size := 2
	switch t.head[1] & 0x7f {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if t.head[1]&0x80 != 0 {
		size += 4 // masking key
	}
	return size
}

func (t *wsFrames) startFrame() {
	t.opcode = t.head[0] & 0x0f
	switch n := t.head[1] & 0x7f; n {
	case 126:
		t.remaining = uint64(t.head[2])<<8 | uint64(t.head[3])
	case 127:
		t.remaining = 0
		for i := 2; i < 10; i++ {
			t.remaining = t.remaining<<8 | uint64(t.head[i])
		}
	default:
		t.remaining = uint64(n)
	}
	t.headLen = 0
	if t.remaining == 0 && t.opcode == 0x8 {
		t.closed = true
	}
}

// atBoundary reports whether the stream stands between two frames.
func (t *wsFrames) atBoundary() bool { return t.headLen == 0 && t.remaining == 0 }
